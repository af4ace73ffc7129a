from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from security.pii import PiiKind, PiiPolicy, pii_mask

VALID_CARDS = [
    "4242 4242 4242 4242",  # Visa
    "4242-4242-4242-4242",
    "4242424242424242",
    "5555555555554444",  # Mastercard
    "2223 0031 2200 3222",  # Mastercard 2-series
    "378282246310005",  # Amex
    "3782 822463 10005",
    "6011 1111 1111 1117",  # Discover
    "3622 720627 1667",  # Diners, 14 digits
    "4222222222222",  # Visa, 13 digits
]


def masked(text: str, **kwargs: object) -> str:
    return pii_mask(text, **kwargs).text  # type: ignore[arg-type]


def kinds(text: str, **kwargs: object) -> list[PiiKind]:
    return [finding.kind for finding in pii_mask(text, **kwargs).found]  # type: ignore[arg-type]


@pytest.mark.parametrize("card", VALID_CARDS)
def test_it_masks_valid_cards_of_every_brand_and_spelling(card: str) -> None:
    result = pii_mask(f"my card is {card}, thanks")

    assert result.text == f"my card is [card ending {card[-4:]}], thanks"
    assert kinds(f"my card is {card}") == [PiiKind.CARD]


def test_it_keeps_the_last_four_digits_of_a_card() -> None:
    assert masked("5555 5555 5555 4444") == "[card ending 4444]"


def test_it_can_hide_the_last_four_digits_too() -> None:
    policy = PiiPolicy(keep_card_last4=False)

    assert masked("card 4242 4242 4242 4242", policy=policy) == "card [card]"


def test_it_leaves_the_expiry_date_after_a_card_readable() -> None:
    assert masked("4242 4242 4242 4242 12/26") == "[card ending 4242] 12/26"
    assert masked("4242 4242 4242 4242 12 26") == "[card ending 4242] 12 26"


@pytest.mark.parametrize(
    "text",
    [
        "4242 4242 4242 4241",  # one digit off: fails Luhn
        "5555 5555 5555 4445",
        "order 1234 5678 9012 3456",  # starts with 1: no card issuer uses it
        "tracking 9400 1000 0000 0000 0000 00",
        "serial 42424242424242424242",  # 20 digits
        "4" * 4000,
    ],
)
def test_it_leaves_card_lookalikes_alone(text: str) -> None:
    assert masked(text) == text


def test_it_masks_cards_written_in_other_digit_scripts() -> None:
    fullwidth = "4242 4242 4242 4242".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})

    assert masked(f"card {fullwidth}") == "card [card ending 4242]"


@pytest.mark.parametrize(
    "email",
    [
        "jane@example.com",
        "Jane.Doe@Example.COM",
        "jane.doe+orders@mail.shop.example.co.uk",
        "o'neil_j-2@sub-domain.example.io",
        "josé@exämple.es",
    ],
)
def test_it_masks_email_addresses(email: str) -> None:
    assert masked(f"write to {email}.") == "write to [email]."


def test_it_leaves_the_quotes_around_an_address() -> None:
    assert masked("href='mailto:jane@example.com'") == "href='mailto:[email]'"


@pytest.mark.parametrize(
    "text",
    [
        "thanks @jane, see @support.team",
        "root@localhost has the logs",
        "ping admin@10.0.0.1",
        "price: 3 @ $4.99",
        "a@b",
    ],
)
def test_it_leaves_mentions_and_local_hosts_alone(text: str) -> None:
    assert masked(text) == text


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("call (415) 555-2671", None),
        ("call 415.555.2671", "US"),
        ("call +1 415 555 2671", "FR"),
        ("call +44 20 7946 0958", None),
        ("call 020 7946 0958", "GB"),
        ("call 020 7946 0958", "gb"),
        ("call +33 1 42 68 53 00", "US"),
        ("call 01 42 68 53 00", "FR"),
        ("call 06.12.34.56.78", "FR"),
    ],
)
def test_it_masks_phone_numbers_for_the_region_and_international_ones(
    text: str, region: str | None
) -> None:
    assert masked(text, region=region) == "call [phone]"


def test_it_finds_phones_anywhere_in_a_long_message() -> None:
    prose = "I ordered on 2024-01-15 at 10:30, order #1042 for $1,299.00. " * 20

    assert masked(f"(415) 555-2671 {prose}") == f"[phone] {prose}"
    assert masked(f"{prose}call 415.555.2671") == f"{prose}call [phone]"
    assert masked(f"{prose}+1 415 555 2671 or {prose} 020 7946 0958", region="GB") == (
        f"{prose}[phone] or {prose} [phone]"
    )


def test_it_masks_a_phone_with_its_extension() -> None:
    assert masked("call +1 415 555 2671 ext. 12 today") == "call [phone] today"


def test_it_reads_national_phone_numbers_in_the_agents_region_only() -> None:
    assert masked("call 020 7946 0958", region="US") == "call 020 7946 0958"
    assert masked("call 020 7946 0958", region="GB") == "call [phone]"


def test_it_still_masks_international_phones_for_an_unknown_region() -> None:
    assert masked("call +44 20 7946 0958 or 415-555-2671", region="XX") == (
        "call [phone] or 415-555-2671"
    )


@pytest.mark.parametrize(
    "text",
    [
        "It costs $1,299.00 or 1.299,00 EUR",
        "Ordered on 2024-01-15 at 10:30, delivered 15/01/2024",
        "Ordered on 2024-01-15. 12 days later, tracking 1Z999AA10123456784 still waits",
        "Order #1042 and #100234567",
        "Back in 1999 and again in 2024",
        "Version 10.4.2.1, build 20240115",
        "Tracking 1Z999AA10123456784",
    ],
)
def test_it_leaves_prices_dates_years_and_order_numbers_readable(text: str) -> None:
    assert masked(text) == text


def test_it_does_not_read_a_card_or_an_iban_as_a_phone() -> None:
    assert kinds("4242 4242 4242 4242") == [PiiKind.CARD]
    assert kinds("GB82 WEST 1234 5698 7654 32") == [PiiKind.IBAN]


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "gb82 west 1234 5698 7654 32",
        "DE89 3704 0044 0532 0130 00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "NO93 8601 1117 947",
    ],
)
def test_it_masks_ibans_with_or_without_spaces(iban: str) -> None:
    assert masked(f"IBAN: {iban}. Thanks") == "IBAN: [iban]. Thanks"


def test_it_stops_an_iban_where_its_country_says_it_ends() -> None:
    assert masked("GB82 WEST 1234 5698 7654 32 THANKS") == "[iban] THANKS"


@pytest.mark.parametrize(
    "text",
    [
        "GB82 WEST 1234 5698 7654 33",  # one digit changed: bad checksum
        "GB82 WEST 1234 5698 7654",  # too short for GB
        "XX82 WEST 1234 5698 7654 32",  # no such country
        "GB82 GB82 GB82 GB82 GB82 GB82",
    ],
)
def test_it_leaves_invalid_ibans_alone(text: str) -> None:
    assert masked(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "SSN 536-22-1234",
        "SSN 536 22 1234",
        "my ssn is 536221234",
        "Social Security number: 536221234",
        "NIR 2 95 10 99 126 111 93",  # French social security number
        "NIR 295109912611193",
        "DNI 12345678Z",  # Spain
        "NIE X1234567L",
        "CF RSSMRA85T10A562S",  # Italian codice fiscale
    ],
)
def test_it_masks_national_ids(text: str) -> None:
    label = text.split()[0]

    assert masked(text).startswith(label)
    assert masked(text).endswith("[national id]")
    assert kinds(text) == [PiiKind.NATIONAL_ID]


@pytest.mark.parametrize(
    "text",
    [
        "SSN 000-12-3456",  # area 000
        "SSN 666-12-3456",  # area 666
        "SSN 912-34-5678",  # area 9xx
        "SSN 536-00-1234",  # group 00
        "SSN 536-22-0000",  # serial 0000
        "SSN 078-05-1120",  # the Woolworth wallet card, never a real person's
        "SSN 536-22 1234",  # mixed separators
        "order 536221234",  # nine bare digits without a label
        "NIR 2 95 10 99 126 111 94",  # wrong key
        "DNI 12345678A",  # wrong letter
        "CF RSSMRA85T10A562T",
    ],
)
def test_it_leaves_invalid_national_ids_alone(text: str) -> None:
    assert masked(text) == text


def test_it_masks_several_kinds_in_one_message() -> None:
    text = (
        "Hi, I'm jane@example.com, call me on +44 20 7946 0958. Card 4242 4242 4242 4242 "
        "was charged $1,299.00 on 2024-01-15 for order #1042; refund to "
        "GB82 WEST 1234 5698 7654 32 please. SSN 536-22-1234."
    )

    assert masked(text) == (
        "Hi, I'm [email], call me on [phone]. Card [card ending 4242] "
        "was charged $1,299.00 on 2024-01-15 for order #1042; refund to "
        "[iban] please. SSN [national id]."
    )


def test_it_masks_values_inside_markup() -> None:
    text = (
        '<p>Card <b>4242-4242-4242-4242</b> <a href="mailto:jane@example.com">mail</a>'
        "<span>(415) 555-2671</span></p>"
    )

    assert masked(text) == (
        '<p>Card <b>[card ending 4242]</b> <a href="mailto:[email]">mail</a>'
        "<span>[phone]</span></p>"
    )


def test_it_reports_where_values_were_but_never_the_values() -> None:
    text = "mail jane@example.com or card 4242 4242 4242 4242 or call (415) 555-2671"
    result = pii_mask(text)

    assert [(f.kind, text[f.start : f.end]) for f in result.found] == [
        (PiiKind.EMAIL, "jane@example.com"),
        (PiiKind.CARD, "4242 4242 4242 4242"),
        (PiiKind.PHONE, "(415) 555-2671"),
    ]
    found = repr(result.found)
    assert "jane" not in found
    assert "4242" not in found
    assert "2671" not in found


def test_masking_masked_text_changes_nothing() -> None:
    text = (
        "jane@example.com 4242 4242 4242 4242 5555555555554444 (415) 555-2671 "
        "GB82 WEST 1234 5698 7654 32 SSN 536-22-1234 DNI 12345678Z"
    )
    once = pii_mask(text)
    twice = pii_mask(once.text)

    assert once.changed
    assert twice.text == once.text
    assert not twice.changed


def test_it_reports_an_unchanged_message_as_unchanged() -> None:
    result = pii_mask("Where is my order #1042?")

    assert result.text == "Where is my order #1042?"
    assert result.found == ()
    assert not result.changed


def test_it_masks_only_the_kinds_the_policy_selects() -> None:
    policy = PiiPolicy(kinds=frozenset({PiiKind.EMAIL}))
    text = "jane@example.com 4242 4242 4242 4242 (415) 555-2671"

    assert masked(text, policy=policy) == "[email] 4242 4242 4242 4242 (415) 555-2671"


def test_it_reads_the_policy_from_the_agents_config() -> None:
    policy = PiiPolicy.from_config({"enabled": True, "kinds": ["card", "iban"]})

    assert policy.kinds == {PiiKind.CARD, PiiKind.IBAN}
    assert policy.keep_card_last4
    assert PiiPolicy.from_config(None) == PiiPolicy()
    assert PiiPolicy.from_config({}) == PiiPolicy()


def test_a_disabled_config_masks_nothing() -> None:
    policy = PiiPolicy.from_config({"enabled": False, "kinds": ["card"]})

    assert not policy.enabled
    assert masked("card 4242 4242 4242 4242", policy=policy) == "card 4242 4242 4242 4242"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"kinds": ["card", "passport"]}, "Unknown PII kind 'passport'; choose from card, email"),
        ({"kinds": "card"}, "'kinds' must be a list"),
        ({"kinds": ["card", 3]}, "'kinds' must be a list"),
        ({"enabled": "yes"}, "'enabled' must be true or false"),
        ({"enable": True}, "Unknown PII setting 'enable'; expected enabled, kinds"),
        (["card"], "must be a JSON object"),
    ],
)
def test_it_rejects_a_config_the_admin_got_wrong(config: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PiiPolicy.from_config(config)  # type: ignore[arg-type]


# Hostile messages of `n` characters, so each can be timed at two sizes.
ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "nines": lambda n: "9" * n,
    "cards": lambda n: ("4242 " * n)[:n],
    "ones": lambda n: ("1 " * n)[:n],
    "arabic-digits": lambda n: ("١٢٣٤٥٦٧٨٩٠" * n)[:n],
    "a-then-at": lambda n: "a" * (n - 1) + "@",
    "a-at": lambda n: ("a@" * n)[:n],
    "quotes-then-domain": lambda n: "o'" * ((n - 5) // 2) + "@x.io",
    "at-then-dots": lambda n: "x@" + "a." * ((n - 2) // 2),
    "names-then-at": lambda n: "jane." * ((n - 2) // 5) + "@b",
    "iban-prefixes": lambda n: ("GB82 " * n)[:n],
    "mailto-links": lambda n: ("<a href='mailto:" * n)[:n],
    "pluses": lambda n: "+" * n,
    "parentheses": lambda n: "(" * (n // 2) + ")" * (n // 2),
    "national-ids": lambda n: ("12345678Z " * n)[:n],
    "near-miss-phones": lambda n: ("(123) 456-789, " * n)[:n],
}


def _best_of_five(text: str) -> float:
    """This thread's CPU time (not wall time: a busy machine preempting the test adds
    nothing to it), the best of five runs."""
    timings = []
    for _ in range(5):
        started = time.thread_time()
        pii_mask(text)
        timings.append(time.thread_time() - started)
    return min(timings)


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_it_masks_a_hostile_4000_character_message_in_linear_time(name: str) -> None:
    """4,000 characters may take about 4 times as long as 1,000 of the same pattern.

    Linear work gives ~4; the quadratic or exponential blow-up of a backtracking regex gives
    16 to astronomically more. A ratio, not a wall-clock limit, so a busy machine cannot
    fail it (absolute costs are measured by `make bench`, bench/pii.py).
    """
    make = ADVERSARIAL[name]
    pii_mask(make(4000))  # warm caches (phonenumbers loads a region's metadata once)
    short, full = _best_of_five(make(1000)), _best_of_five(make(4000))
    assert full / max(short, 1e-4) < 10
    assert full < 1.0  # and never catastrophic
