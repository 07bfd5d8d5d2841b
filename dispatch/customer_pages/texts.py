"""Words on the customer pages, in English and German."""

from __future__ import annotations

TEXTS: dict[str, dict] = {  # type: ignore[type-arg]
    "en": {
        "expired": "This link has expired", "invalid": "This link is not valid",
        "button": {"confirm": "Confirm the visit", "choose": "Take this time",
                   "cancel": "Cancel the visit", "fixed": "Yes, I fixed it",
                   "unsubscribe": "Unsubscribe"},
        "ask": {"confirm": ("Confirm your technician visit", ""),
                "choose": ("Choose another time", "These times are still available:"),
                "cancel": ("Cancel your technician visit", ""),
                "fixed": ("Did you fix it?", "Tell us and we will close the case."),
                "unsubscribe": ("Unsubscribe", "You will get no more proactive emails.")},
        "outcome": {
            "booked": ("Your visit is confirmed", "See you then."),
            "already_booked": ("Your visit is confirmed", "It was confirmed already."),
            "expired": ("This proposal has expired", "We will contact you with a new one."),
            "released": ("This proposal is no longer valid", "The visit was moved or expired."),
            "cancelled": ("The visit is cancelled", ""),
            "moved": ("Your visit has moved", "The new time is booked for you."),
            "taken": ("That time was just taken", "Please choose another one."),
            "fixed": ("Thank you", "We will keep an eye on your appliance."),
            "unsubscribed": ("You are unsubscribed", "You will get no more proactive emails."),
            "done": ("This visit has taken place", ""),
            "unknown": ("Nothing to do", "We could not find this visit."),
        },
    },
    "de": {
        "expired": "Dieser Link ist abgelaufen", "invalid": "Dieser Link ist ungültig",
        "button": {"confirm": "Termin bestätigen", "choose": "Diesen Termin nehmen",
                   "cancel": "Termin absagen", "fixed": "Ja, behoben",
                   "unsubscribe": "Abmelden"},
        "ask": {"confirm": ("Technikertermin bestätigen", ""),
                "choose": ("Anderen Termin wählen", "Diese Termine sind noch frei:"),
                "cancel": ("Technikertermin absagen", ""),
                "fixed": ("Haben Sie es behoben?", "Dann schließen wir den Fall."),
                "unsubscribe": ("Abmelden", "Sie erhalten keine proaktiven E-Mails mehr.")},
        "outcome": {
            "booked": ("Ihr Termin ist bestätigt", "Bis dann."),
            "already_booked": ("Ihr Termin ist bestätigt", "Er war schon bestätigt."),
            "expired": ("Dieser Vorschlag ist abgelaufen", "Wir melden uns mit einem neuen."),
            "released": ("Dieser Vorschlag gilt nicht mehr",
                         "Der Termin wurde verschoben oder ist abgelaufen."),
            "cancelled": ("Der Termin ist abgesagt", ""),
            "moved": ("Ihr Termin wurde verschoben", "Die neue Zeit ist für Sie gebucht."),
            "taken": ("Dieser Termin wurde gerade vergeben", "Bitte wählen Sie einen anderen."),
            "fixed": ("Vielen Dank", "Wir behalten Ihr Gerät im Blick."),
            "unsubscribed": ("Sie sind abgemeldet", "Sie erhalten keine proaktiven E-Mails mehr."),
            "done": ("Dieser Termin hat stattgefunden", ""),
            "unknown": ("Nichts zu tun", "Wir konnten diesen Termin nicht finden."),
        },
    },
}


def text(lang: str, action: str, outcome: str) -> tuple[str, str]:
    """(title, message) for an action's question ('ask') or outcome."""
    words = TEXTS.get(lang, TEXTS["en"])
    if outcome == "ask":
        return tuple(words["ask"][action])  # type: ignore[return-value]
    return tuple(words["outcome"].get(outcome, (outcome, "")))  # type: ignore[return-value]
