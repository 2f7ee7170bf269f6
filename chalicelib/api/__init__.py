"""tapcard's HTTP and event surface: one Chalice Blueprint per audience (buyer, seller, events,
dev), the HTTP helpers they share (http.py) and the middlewares app.py registers (middleware.py).
Handlers parse the request, call one use case in chalicelib and answer; the work lives there."""
