"""Shipping: where a card ships and for what fee, the address a buyer gives, and what an order
costs with it. Plain Python."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import DomainError, InvalidRequest
from chalicelib.domain.fields import MAX_AMOUNT, int_field

__all__ = ["COUNTRIES", "NO_POSTCODE", "ADDRESS_FIELDS", "ADDRESS_LIMITS", "Shipping", "NO_SHIPPING",
           "shipping_from_request", "shipping_json", "shipping_fee", "address_from_request",
           "address_of_tap",
           "ShippingAddressRequired", "ShippingNotRequired"]

# ISO 3166-1 alpha-2, every officially assigned code (249).
COUNTRIES = frozenset((
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV "
    "BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM "
    "IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD "
    "ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
    "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST "
    "SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS "
    "YE YT ZA ZM ZW").split())
# Where an address needs no postal code: places without postcodes (Hong Kong, Macao, the UAE,
# Qatar, ...) and Ireland, whose Eircode is optional for delivery. Kept small on purpose: everywhere
# else the postal code is required.
NO_POSTCODE = frozenset(("AE", "AG", "BS", "BZ", "HK", "IE", "JM", "MO", "QA"))
# The address a buyer gives: each field and its maximum length (email: RFC 5321's path limit).
ADDRESS_LIMITS = {"name": 100, "line1": 200, "line2": 200, "city": 100, "region": 100, "postal_code": 20,
                  "country": 2, "phone": 30, "email": 254}
ADDRESS_FIELDS = tuple(ADDRESS_LIMITS)
_REQUIRED = ("name", "line1", "city", "country", "email")
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,19}\Z")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-]{3,29}\Z")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+\Z")


class ShippingAddressRequired(DomainError):
    """The card ships goods and the order has no address yet: nothing is charged without one."""
    code = "shipping_address_required"

    def __init__(self, message: str):
        super().__init__(message)
        self.field = "shipping"


class ShippingNotRequired(DomainError):
    """An address for a card that ships nothing (digital goods): not taken, so never stored."""
    code = "shipping_not_required"

    def __init__(self, message: str):
        super().__init__(message)
        self.field = "shipping"


@dataclass(frozen=True)
class Shipping:
    """Whether a card's goods are shipped, to which countries, and the fee per order (in the card's
    minor units). Digital goods: not required, no countries, no fee."""
    required: bool = False
    countries: tuple[str, ...] = ()
    fee: int = 0


NO_SHIPPING = Shipping()


def shipping_from_request(value: Any, name: str = "shipping") -> Shipping:
    """{required, countries: [ISO 3166-1 alpha-2], fee: {amount}}; null or absent: no shipping."""
    if value is None:
        return NO_SHIPPING
    if not isinstance(value, dict):
        raise InvalidRequest(f"'{name}' must be an object with 'required', 'countries' and 'fee'.", name)
    required = value.get("required", False)
    if not isinstance(required, bool):
        raise InvalidRequest(f"'{name}.required' must be true or false.", f"{name}.required")
    countries = value.get("countries")
    countries = [] if countries is None else countries
    if not isinstance(countries, list):
        raise InvalidRequest(f"'{name}.countries' must be a list of ISO 3166-1 alpha-2 codes.", f"{name}.countries")
    codes: list[str] = []
    for index, code in enumerate(countries):
        if not isinstance(code, str) or code.upper() not in COUNTRIES:
            raise InvalidRequest(f"'{name}.countries[{index}]' is not an ISO 3166-1 alpha-2 country code "
                                 "(such as FR, US, HK).", f"{name}.countries")
        if code.upper() not in codes:
            codes.append(code.upper())
    fee = value.get("fee")
    amount = 0
    if fee is not None:
        if not isinstance(fee, dict):
            raise InvalidRequest(f"'{name}.fee' must be an object with 'amount'.", f"{name}.fee")
        amount = int_field(fee.get("amount", 0), f"{name}.fee.amount", 0, MAX_AMOUNT)
    if not required:
        if codes:
            raise InvalidRequest(f"'{name}.countries' needs '{name}.required': true.", f"{name}.countries")
        if amount:
            raise InvalidRequest(f"'{name}.fee' needs '{name}.required': true.", f"{name}.fee.amount")
        return NO_SHIPPING
    if not codes:
        raise InvalidRequest(f"'{name}.countries' must name at least one country the card ships to.",
                             f"{name}.countries")
    return Shipping(True, tuple(codes), amount)


def shipping_json(shipping: Shipping, currency: str) -> dict:
    return {"required": shipping.required, "countries": list(shipping.countries),
            "fee": {"amount": shipping.fee, "currency": currency}}


def shipping_fee(shipping: Shipping) -> int:
    """The fee an order of the card adds, once per order (domain.price_order adds it)."""
    return shipping.fee if shipping.required else 0


def address_from_request(payload: Any, shipping: Shipping, name: str = "shipping") -> dict:
    """The address an order ships to, as stored: {name, line1, line2?, city, region?, postal_code?,
    country, phone?, email}. Raises ShippingNotRequired for a card that ships nothing, and
    InvalidRequest naming the first field that is wrong."""
    if not shipping.required:
        raise ShippingNotRequired("This card ships nothing (digital goods): it takes no shipping address.")
    if not isinstance(payload, dict):
        raise InvalidRequest(f"'{name}' must be an object: name, line1, city, postal_code, country, email.", name)
    for field_name in payload:
        if field_name not in ADDRESS_LIMITS:
            raise InvalidRequest(f"Unknown field '{field_name}' in the address.", field_name)
    address: dict[str, str] = {}
    for field_name, limit in ADDRESS_LIMITS.items():
        value = payload.get(field_name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field_name in _REQUIRED:
                raise InvalidRequest(f"'{field_name}' is required.", field_name)
            continue
        if not isinstance(value, str):
            raise InvalidRequest(f"'{field_name}' must be text.", field_name)
        value = " ".join(value.split())  # no line breaks or tabs inside a field (labels, CSV)
        if len(value) > limit:
            raise InvalidRequest(f"'{field_name}' must be at most {limit} characters.", field_name)
        address[field_name] = value
    country = address["country"].upper()
    if country not in shipping.countries:
        raise InvalidRequest(f"This card ships only to {', '.join(shipping.countries)}.", "country")
    address["country"] = country
    postal_code = address.get("postal_code")
    if postal_code is None and country not in NO_POSTCODE:
        raise InvalidRequest("'postal_code' is required.", "postal_code")
    if postal_code is not None and not _POSTAL_CODE.match(postal_code):
        raise InvalidRequest("'postal_code' may hold letters, digits, spaces and '-' only.", "postal_code")
    if "phone" in address and not _PHONE.match(address["phone"]):
        raise InvalidRequest("'phone' must be a phone number (digits, spaces, +, -, parentheses).", "phone")
    if not _EMAIL.match(address["email"]):
        raise InvalidRequest("'email' must be an email address.", "email")
    return address


def address_of_tap(payload: dict, shipping: Shipping) -> dict | None:
    """The address (`shipping`) and `email` a tap (checkout, a group's start or join) may carry,
    checked before anything is held; None when it carries neither. Errors name the body's field
    (shipping.postal_code, email)."""
    if "shipping" not in payload and "email" not in payload:
        return None
    # Their types first, null included (openapi.json: an object, text), whatever the card ships.
    if "shipping" in payload and not isinstance(payload["shipping"], dict):
        raise InvalidRequest("'shipping' must be an object: name, line1, city, postal_code, country.", "shipping")
    if "email" in payload and not isinstance(payload["email"], str):
        raise InvalidRequest("'email' must be text: the buyer's email address.", "email")
    given = payload.get("shipping", {})
    if "email" in payload:
        given = {**given, "email": payload["email"]}
    try:
        return address_from_request(given, shipping)
    except InvalidRequest as error:
        if error.field and error.field != "email":
            error.field = f"shipping.{error.field}"
        raise
