"""The words of the after-sales mails (chalicelib/notices.py sends them, once per kind): the request
was received, approved (with the seller's return instructions), declined (with the reason), closed,
or the seller wrote in its thread. A refund sends notices' own `refunded` mail."""
from __future__ import annotations

from chalicelib.store import aftersales as stored


def _text(value: str) -> str:
    """Someone's text as a line notices will str.format: its braces stay braces."""
    return value.replace("{", "{{").replace("}", "}}")


def subject_and_lines(kind: str, words: dict, values: dict) -> tuple[str, list[str]]:
    """(the subject's word key, the lines) of kind "request_<step>.<request_id>[.<n>]"."""
    step_part, _, rest = kind.partition(".")
    step = step_part.removeprefix("request_")
    request_id, _, detail = rest.partition(".")
    request = stored.require(request_id)
    kind_words = words[f"request_type_{request.type}"]
    if step == "opened":
        lines = [words["request_opened_intro"], words["request_your_words"] + " " + _text(request.messages[0].text)]
    elif step == "approved":
        lines = [words["request_approved_intro"], words["request_instructions"] + " " + _text(request.instructions or "")]
    elif step == "declined":
        lines = [words["request_declined_intro"], words["request_reason"] + " " + _text(request.reason or "")]
    elif step == "reply":
        lines = [words["request_reply_intro"], _text(request.messages[int(detail)].text)]
    else:  # closed
        lines = [words["request_closed_intro"]]
    return f"request_{step}_subject", [kind_words] + lines
