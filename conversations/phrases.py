"""Does a visitor's message ask for a person? Phrase matching in a few languages.

Text is compared lower-cased, without accents and with straight apostrophes, on word
boundaries (so "humane" or "agenda" never match "human" or "agent"). Two kinds of rules:

- a request anywhere in the message: "can I talk to someone", "real person", "parler à
  quelqu'un", "mit einem Menschen sprechen";
- a message that is nothing but a word for a person, give or take "please":
  "human", "agent please", "operator!".

A request negated in its own clause ("I don't need a human") does not count.
"""

from __future__ import annotations

import re
import unicodedata

_PERSON_EN = (
    r"(?:a |an |the |some |your |real |actual |live )*"
    r"(?:human|humans|person|someone|somebody|agent|representative|rep|operator|"
    r"staff|support|team member|manager|supervisor|customer service|employee)\b"
)

REQUESTS = [
    # English
    r"\b(?:talk|speak|chat|connect|transfer|put|escalate)(?: me)? (?:to|with|through to) "
    + _PERSON_EN,
    r"\b(?:real|actual|live) (?:human|person|agent|people|operator)\b",
    r"\bhuman (?:being|agent|support|operator|please)\b",
    r"\b(?:get|give|want|need|find) (?:me )?(?:a |an |to )?(?:human|person|representative|"
    r"operator|customer service)\b",
    r"\b(?:connect|transfer|escalate) me\b",
    r"\bagent please\b",
    # French
    r"\bparler (?:a|avec) (?:quelqu'un|un humain|une personne|un conseiller|une conseillere|"
    r"un agent|un operateur|une operatrice|un etre humain|un vrai|une vraie|le service client)",
    r"\b(?:une vraie personne|un etre humain|un conseiller humain|un humain)\b",
    # German
    r"\bmit (?:einem|einer) (?:menschen|mitarbeiter|mitarbeiterin|person|berater|beraterin)\b",
    r"\bmit jemandem (?:sprechen|reden|chatten)\b",
    r"\b(?:echten|echte|richtigen) (?:menschen|mensch|person|mitarbeiter)\b",
    # Spanish
    r"\bhablar con (?:alguien|una persona|un humano|un agente|un asesor|una asesora|"
    r"un operador|una operadora)\b",
    r"\b(?:persona real|agente humano)\b",
    # Italian
    r"\bparlare con (?:qualcuno|una persona|un operatore|un'operatrice|un umano|un essere umano)",
    r"\b(?:operatore umano|persona reale)\b",
    # Portuguese
    r"\bfalar com (?:alguem|uma pessoa|um atendente|uma atendente|um humano|um agente)\b",
    r"\b(?:atendente humano|pessoa real)\b",
    # Dutch
    r"\b(?:met een mens|met een medewerker|met iemand) (?:spreken|praten|chatten)\b",
]

# A whole message that only names a person (after dropping politeness and punctuation).
ALONE = {
    "human",
    "a human",
    "person",
    "a person",
    "agent",
    "an agent",
    "live agent",
    "operator",
    "representative",
    "someone",
    "staff",
    "support",
    "humain",
    "un humain",
    "conseiller",
    "mensch",
    "mitarbeiter",
    "humano",
    "operatore",
    "atendente",
}
POLITE = re.compile(r"\b(?:please|pls|plz|now|s'il vous plait|svp|bitte|por favor|per favore)\b")

NEGATIONS = re.compile(
    r"\b(?:don't|dont|do not|doesn't|does not|not|never|no need|without|"
    r"pas|jamais|nicht|kein|keine|keinen|no quiero|non voglio|nao quero)\b"
)
CLAUSE_BREAK = re.compile(r"[,.;:!?]|\bbut\b|\bmais\b|\baber\b|\bpero\b|\bma\b")

_REQUEST = re.compile("|".join(f"(?:{pattern})" for pattern in REQUESTS))


def normalize(text: str) -> str:
    """Lower-case, accents removed, one kind of apostrophe, single spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return " ".join(text.split())


def _negated(text: str, start: int) -> bool:
    before = text[:start]
    clause = CLAUSE_BREAK.split(before)[-1] if before else ""
    return bool(NEGATIONS.search(clause))


def asks_for_person(text: str) -> bool:
    """Whether the visitor asks to talk to a person."""
    norm = normalize(text)
    bare = " ".join(re.sub(r"[^\w' ]", " ", POLITE.sub(" ", norm)).split())
    if bare in ALONE:
        return True
    return any(not _negated(norm, match.start()) for match in _REQUEST.finditer(norm))


def contains_keyword(text: str, keywords: list[str]) -> str | None:
    """The first of the agent's handoff keywords (words or phrases) the text contains."""
    norm = normalize(text)
    for keyword in keywords:
        wanted = normalize(keyword) if isinstance(keyword, str) else ""
        if wanted and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", norm):
            return keyword
    return None


AFFIRMATIVE = {
    "yes",
    "yes please",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "please",
    "please do",
    "yes i would",
    "i would",
    "y",
    "oui",
    "oui merci",
    "ja",
    "ja gerne",
    "gerne",
    "si",
    "sim",
    "claro",
    "certo",
}


def accepts_offer(text: str) -> bool:
    """A short "yes" to the agent's offer to connect the visitor with a person."""
    bare = " ".join(re.sub(r"[^\w' ]", " ", normalize(text)).split())
    bare = re.sub(r"\b(?:thanks|thank you|merci|danke|gracias|grazie|obrigado)\b", "", bare)
    return " ".join(bare.split()) in AFFIRMATIVE
