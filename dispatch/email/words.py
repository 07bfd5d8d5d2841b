"""Every word of the customer emails, in English and German: subjects, headings, buttons."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "hello": "Hello {name},",
        "subject.self_help": "{Appliance}: {title} – how to fix it yourself",
        "subject.visit": "Please confirm: technician visit on {when} ({appliance})",
        "subject.visit_none": "{Appliance}: {title} – we will call you to arrange a visit",
        "subject.urgent": "Urgent – {appliance}: {title}. What to do now",
        "subject.reminder": "Tomorrow, {when}: technician visit ({appliance})",
        "subject.digest": "Your appliances: {n} note(s), nothing you need to do today",
        "subject.confirmed": "Confirmed: technician visit on {when} ({appliance})",
        "subject.booked": "Booked for you: technician visit on {when} ({appliance})",
        "subject.moved": "New time: technician visit on {when} ({appliance})",
        "subject.cancelled": "Cancelled: technician visit on {when} ({appliance})",
        "subject.lapsed": "Not confirmed in time: technician visit on {when} ({appliance})",
        "intro.self_help": "Your {appliance} reports a problem you can most likely fix yourself "
                           "in a few minutes.",
        "intro.visit": "Your {appliance} needs a technician.",
        "intro.urgent": "Your {appliance} reports a fault that needs your attention now.",
        "intro.reminder": "A reminder: the technician comes tomorrow.",
        "intro.digest": "Here is a short overview of your appliances.",
        "intro.confirmation": "Appliance: {appliance}.",
        "intro.confirmed": "Thank you, your technician visit is confirmed.",
        "intro.booked": "Our scheduling team has booked a technician visit for you.",
        "intro.moved": "Your technician visit has a new time.",
        "intro.moved_scheduler": "Our scheduling team had to move your technician visit.",
        "intro.cancelled": "Your technician visit is cancelled.",
        "intro.lapsed": "You did not confirm the reserved time, so we have released it. We "
                        "will call you to arrange another visit.",
        "escalated": "The self-help steps did not solve it, so we would like to send a "
                     "technician.",
        "away": "It looks like you are away at the moment, so we planned the visit for when "
                "you are back.",
        "safety": "For your safety",
        "steps": "What to do",
        "steps.urgent": "What to do now",
        "feedback": "Did it work?",
        "fixed": "Yes, it works again",
        "broken": "No, still broken",
        "feedback.note": "If it is still broken, we will propose a technician visit.",
        "proposal": "Our suggestion, when you are most likely at home",
        "confirm": "Confirm this time",
        "others": "Or take one of these times instead",
        "pick": "Take this time",
        "choose": "See all free times",
        "cancel": "Cancel the visit",
        "held": "We keep this time for you until {until}. After that it may go to someone "
                "else.",
        "technician": "Technician: {name}",
        "no_slot": "We will call you to arrange a technician visit.",
        "was": "Previously: {when}",
        "calendar": "The calendar entry attached to this email replaces the earlier one.",
        "calendar.cancel": "The calendar entry attached to this email removes the visit from "
                           "your calendar.",
        "change": "Need another time?",
        "signature": "Your Fixahead service team",
        "footer": "You receive these emails because you allowed Fixahead to contact you about "
                  "your appliances.",
        "unsubscribe": "Unsubscribe",
        "ics.summary": "Technician visit: {appliance} – {title}",
        "life": "At the rate it is wearing, we expect it to fail in about {days} days "
                "(between {lo} and {hi} days).",
        "life.open": "At the rate it is wearing, we expect it to fail in about {days} days "
                     "(at least {lo} days).",
        "life.soon": "At the rate it is wearing, we expect it to fail within a day.",
    },
    "de": {
        "hello": "Guten Tag {name},",
        "subject.self_help": "{Appliance}: {title} – so beheben Sie es selbst",
        "subject.visit": "Bitte bestätigen: Technikertermin am {when} ({appliance})",
        "subject.visit_none": "{Appliance}: {title} – wir rufen Sie für einen Termin an",
        "subject.urgent": "Dringend – {appliance}: {title}. Das ist jetzt zu tun",
        "subject.reminder": "Morgen, {when}: Technikertermin ({appliance})",
        "subject.digest": "Ihre Geräte: {n} Hinweis(e), heute nichts zu tun",
        "subject.confirmed": "Bestätigt: Technikertermin am {when} ({appliance})",
        "subject.booked": "Für Sie gebucht: Technikertermin am {when} ({appliance})",
        "subject.moved": "Neuer Termin: Technikertermin am {when} ({appliance})",
        "subject.cancelled": "Abgesagt: Technikertermin am {when} ({appliance})",
        "subject.lapsed": "Nicht rechtzeitig bestätigt: Technikertermin am {when} ({appliance})",
        "intro.self_help": "Ihr Gerät ({appliance}) meldet ein Problem, das Sie "
                           "wahrscheinlich in wenigen Minuten selbst beheben können.",
        "intro.visit": "Ihr Gerät ({appliance}) braucht einen Techniker.",
        "intro.urgent": "Ihr Gerät ({appliance}) meldet eine Störung, um die Sie sich jetzt "
                        "kümmern sollten.",
        "intro.reminder": "Zur Erinnerung: Der Techniker kommt morgen.",
        "intro.digest": "Hier ein kurzer Überblick über Ihre Geräte.",
        "intro.confirmation": "Gerät: {appliance}.",
        "intro.confirmed": "Vielen Dank, Ihr Technikertermin ist bestätigt.",
        "intro.booked": "Unsere Disposition hat einen Technikertermin für Sie gebucht.",
        "intro.moved": "Ihr Technikertermin hat eine neue Zeit.",
        "intro.moved_scheduler": "Unsere Disposition musste Ihren Technikertermin verschieben.",
        "intro.cancelled": "Ihr Technikertermin ist abgesagt.",
        "intro.lapsed": "Sie haben den reservierten Termin nicht bestätigt, deshalb haben wir "
                        "ihn freigegeben. Wir rufen Sie an, um einen neuen zu vereinbaren.",
        "escalated": "Die Schritte zur Selbsthilfe haben nicht geholfen, deshalb möchten wir "
                     "einen Techniker schicken.",
        "away": "Sie scheinen gerade verreist zu sein; wir haben den Termin für die Zeit "
                "geplant, wenn Sie zurück sind.",
        "safety": "Zu Ihrer Sicherheit",
        "steps": "So gehen Sie vor",
        "steps.urgent": "Das ist jetzt zu tun",
        "feedback": "Hat es geklappt?",
        "fixed": "Ja, es funktioniert wieder",
        "broken": "Nein, immer noch defekt",
        "feedback.note": "Ist es noch defekt, schlagen wir Ihnen einen Technikertermin vor.",
        "proposal": "Unser Vorschlag, wenn Sie am ehesten zu Hause sind",
        "confirm": "Diesen Termin bestätigen",
        "others": "Oder nehmen Sie stattdessen einen dieser Termine",
        "pick": "Diesen Termin nehmen",
        "choose": "Alle freien Termine ansehen",
        "cancel": "Termin absagen",
        "held": "Wir halten diesen Termin bis {until} für Sie frei. Danach kann er vergeben "
                "werden.",
        "technician": "Servicetechnik: {name}",
        "no_slot": "Wir rufen Sie an, um einen Technikertermin zu vereinbaren.",
        "was": "Bisher: {when}",
        "calendar": "Der Kalendereintrag in dieser E-Mail ersetzt den bisherigen.",
        "calendar.cancel": "Der Kalendereintrag in dieser E-Mail entfernt den Termin aus "
                           "Ihrem Kalender.",
        "change": "Passt die Zeit nicht?",
        "signature": "Ihr Fixahead-Serviceteam",
        "footer": "Sie erhalten diese E-Mails, weil Sie Fixahead erlaubt haben, Sie zu Ihren "
                  "Geräten zu kontaktieren.",
        "unsubscribe": "Abmelden",
        "ics.summary": "Technikertermin: {appliance} – {title}",
        "life": "Beim jetzigen Verschleiß rechnen wir mit einem Ausfall in etwa {days} Tagen "
                "(zwischen {lo} und {hi} Tagen).",
        "life.open": "Beim jetzigen Verschleiß rechnen wir mit einem Ausfall in etwa {days} "
                     "Tagen (frühestens in {lo} Tagen).",
        "life.soon": "Beim jetzigen Verschleiß rechnen wir mit einem Ausfall innerhalb eines "
                     "Tages.",
    },
}


def words(language: str) -> dict[str, str]:
    """The words of one language (English for an unknown one)."""
    return WORDS.get(language, WORDS["en"])
