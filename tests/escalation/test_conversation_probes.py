"""Whole conversations as an agent sends them (issue 15, fifth generality round): greetings, context,
agent replies and follow-ups, a refund over or under the limit, in the four languages; each must get
exactly the triggers a support lead would give it, no more and no fewer.

The conversations here are written for these tests and appear nowhere in the corpus."""

import pytest

from escalation.config import build_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.models import Ticket

ENGINE = EscalationEngine(build_config(), load_known_issue_rows())
START = 1_764_547_200  # 2025-12-01; messages ten minutes apart

# (language, expected triggers, agent confidence, refund in USD, [(role, text), ...])
CONVERSATIONS = [
    ("en", set(), 0.9, None, [
        ("customer", "Hi, how do I download last month's invoice?"),
        ("agent", "Go to Billing > Invoices and click Download."),
        ("customer", "Found it, thanks a lot!"),
    ]),
    ("en", {"frustration"}, 0.9, None, [
        ("customer", "My package is late."),
        ("agent", "Sorry! It should arrive within 2 days."),
        ("customer", "You said that last week too."),
        ("agent", "I understand, let me check."),
        ("customer", "Still nothing. This is ridiculous, I want a manager NOW."),
    ]),
    ("en", set(), 0.9, None, [
        ("customer", "Can I change my delivery address?"),
        ("agent", "Yes, under Orders > Edit address."),
        ("customer", "Perfect, and can I also add a second address?"),
        ("agent", "Yes."),
        ("customer", "Great, thank you!"),
    ]),
    ("en", {"low_confidence"}, 0.55, None, [
        ("customer", "Can I use my gift card on the subscription plan?"),
    ]),
    ("en", {"compliance_legal"}, 0.9, 650.0, [
        ("customer", "I want a refund for the broken laptop, it cost 650 dollars."),
    ]),
    ("en", set(), 0.9, 25.0, [("customer", "Please refund the 25 dollars for the missing cable.")]),
    ("es", {"frustration"}, 0.9, None, [
        ("customer", "Mi pedido no ha llegado."),
        ("agent", "Lo siento, lo revisamos."),
        ("customer", "Llevo dos semanas esperando y nadie me da una respuesta. Es una vergüenza."),
        ("agent", "Disculpe las molestias."),
        ("customer", "Si no llega mañana, cancelo todo y no vuelvo a comprar aquí nunca más."),
    ]),
    ("de", set(), 0.9, None, [
        ("customer", "Hallo, wie kann ich die Sprache der App auf Deutsch umstellen?"),
        ("agent", "Unter Einstellungen > Sprache."),
        ("customer", "Super, hat geklappt. Danke!"),
    ]),
    ("de", {"frustration"}, 0.9, None, [
        ("customer", "Das ist jetzt das dritte Mal, dass ich schreibe. Niemand meldet sich."),
        ("agent", "Entschuldigung, wir prüfen das."),
        ("customer", "Ich bin wirklich am Ende mit meiner Geduld."),
    ]),
    ("fr", {"compliance_legal"}, 0.9, None, [
        ("customer", "Bonjour, je souhaite exercer mon droit d'accès : envoyez-moi une copie de toutes "
                     "les données que vous détenez sur moi."),
    ]),
    ("fr", {"frustration"}, 0.9, None, [
        ("customer", "Ma commande est en retard."),
        ("agent", "Nous vérifions."),
        ("customer", "Ça fait trois semaines ! C'est inadmissible, personne ne répond jamais !!!"),
    ]),
    ("de", {"compliance_legal"}, 0.9, None, [
        ("customer", "Ihre Mitarbeiterin hat mich wegen meines Kopftuchs nicht bedient. "
                     "Das ist Diskriminierung."),
    ]),
    ("en", {"compliance_legal"}, 0.9, None, [
        ("customer", "The driver refused to deliver to me and said people like me should shop "
                     "somewhere else."),
    ]),
    ("en", {"novel"}, 0.9, None, [
        ("customer", "Hi. When I print the shipping label from my account it prints somebody else's return "
                     "address in Ohio. I've never lived there."),
    ]),
    ("es", {"novel"}, 0.9, None, [
        ("customer", "Hola. Desde la actualización, cada vez que abro el historial de pedidos me aparecen "
                     "compras de otra persona con su dirección."),
    ]),
    ("de", {"novel"}, 0.9, None, [
        ("customer", "Hallo, seit gestern zeigt mir die App beim Bezahlen jedes Mal die Kreditkarte meines "
                     "Nachbarn als gespeicherte Karte an."),
    ]),
    ("fr", {"novel"}, 0.9, None, [
        ("customer", "Bonjour, depuis la mise à jour, l'appli envoie toute seule des avis cinq étoiles "
                     "en mon nom sur des produits que je n'ai jamais achetés."),
    ]),
    ("en", set(), 0.9, None, [
        ("customer", "Hello, my order #48213 still hasn't shipped and it's been 6 days. Can you check what's "
                     "going on? Thanks"),
    ]),
    ("es", set(), 0.9, None, [
        ("customer", "Buenas, el código de descuento BIENVENIDA10 no me funciona al pagar. ¿Me ayudáis?"),
    ]),
    ("fr", {"compliance_legal"}, 0.9, None, [
        ("customer", "Je vais saisir la CNIL si vous ne supprimez pas mes données personnelles."),
    ]),
    ("en", set(), 0.9, None, [
        ("customer", "Hi there! Hope you're well. Quick one: I changed my email last week and now I'd like "
                     "to update the username too. Where do I do that?"),
    ]),
    ("en", {"frustration"}, 0.9, None, [
        ("customer", "This is the FOURTH time I'm writing about the same refund. Nobody answers. I am done "
                     "being patient, fix it today or I'm cancelling everything."),
    ]),
    ("en", {"compliance_legal"}, 0.9, None, [
        ("customer", "Please delete all personal data you hold about me under GDPR article 17 and confirm "
                     "in writing."),
    ]),
    ("es", set(), 0.9, None, [
        ("customer", "Hola, buenas tardes. Quería saber cómo cambio la dirección de envío de un pedido que "
                     "hice ayer. Gracias."),
    ]),
    ("es", {"compliance_legal"}, 0.9, None, [
        ("customer", "Si no me devolvéis los 850 euros esta semana, mi abogado presentará una demanda."),
    ]),
    ("de", set(), 0.9, None, [
        ("customer", "Guten Tag, ich habe mein Passwort vergessen und die Reset-Mail kommt nicht an. "
                     "Können Sie helfen?"),
    ]),
    ("de", set(), 0.9, None, [
        ("customer", "Hallo, ich möchte mein Abo von monatlich auf jährlich umstellen. Wie geht das?"),
    ]),
    ("fr", set(), 0.9, None, [
        ("customer", "Bonjour, je voudrais télécharger la facture de ma dernière commande avec le numéro de "
                     "TVA de ma société. Merci !"),
    ]),
    ("fr", set(), 0.9, None, [
        ("customer", "Bonjour, mon colis est en retard de trois jours, pouvez-vous me dire où il en est ?"),
    ]),
    ("en", set(), 0.9, None, [
        ("customer", "Hi, I ordered a jacket last week. Every time I check the tracking it says label "
                     "created. When will it ship?"),
    ]),
    ("en", set(), 0.9, None, [
        ("customer", "Hello. I reset my password yesterday. Suddenly today it says the password is "
                     "wrong again. Can you send a new reset link?"),
    ]),
    ("es", set(), 0.9, None, [
        ("customer", "Hola. Cada vez que intento pagar, la tarjeta es rechazada. Ya la actualicé. ¿Qué "
                     "hago?"),
    ]),
    ("de", set(), 0.9, None, [
        ("customer", "Hallo. Jedes Mal, wenn ich die App starte, stürzt sie ab. Ich habe sie schon neu "
                     "installiert."),
    ]),
    ("fr", set(), 0.9, None, [
        ("customer", "Bonjour. Chaque fois que je passe commande, le code promo est refusé. "
                     "Pouvez-vous vérifier ?"),
    ]),
    ("en", set(), 0.9, None, [
        ("customer", "Hi! I moved house last month. My parcel went to the old address instead of the "
                     "new one. Can you change the delivery address for my next orders?"),
    ]),
    ("es", set(), 0.9, None, [
        ("customer", "Hola. De repente no puedo entrar en mi cuenta. Dice que está bloqueada. ¿Cómo la "
                     "desbloqueo?"),
    ]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "expected", "confidence", "refund", "messages"),
    CONVERSATIONS,
    ids=[f"{c[0]}-{i}-{'+'.join(sorted(c[1])) or 'none'}" for i, c in enumerate(CONVERSATIONS)],
)
def test_a_conversation_gets_exactly_its_triggers(
    language: str,
    expected: set[str],
    confidence: float,
    refund: float | None,
    messages: list[tuple[str, str]],
) -> None:
    ticket = Ticket.model_validate(
        {
            "language": language,
            "agent_confidence": confidence,
            "refund_amount": refund,
            "proposed_reply": "Here is what I found.",
            "messages": [
                {"role": role, "text": text, "ts": START + 600 * i} for i, (role, text) in enumerate(messages)
            ],
        }
    )
    decision = ENGINE.decide(ticket)
    assert {str(t) for t in decision.triggers} == expected, [r.text for r in decision.reasons]
    assert decision.should_escalate is bool(expected)
