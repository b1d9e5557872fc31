"""Frustration said in registers the corpus lacks (issue 15, second generality round): dissatisfaction
named, "the worst ... ever", rhetorical disbelief, competence questioned, broken assurances, expectations
let down, disrespect, indifference, lost hours, endurance at an end, a service judged a disaster, stated
agents and silence; and their calm look-alikes, which stay calm.

The sentences here are written for these tests and appear nowhere in the corpus."""

import pytest

from escalation.models import Trigger
from tests.escalation.test_general_constructions import triggers


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I am extremely unhappy with how this has been handled."),
        ("es", "Estoy muy molesta con cómo están gestionando esto."),
        ("de", "Ich bin äußerst unzufrieden damit, wie das abgewickelt wird."),
        ("fr", "Je suis très mécontente de la façon dont c'est géré."),
        ("en", "Honestly this is the worst customer service I have ever dealt with."),
        ("es", "Sinceramente, es el peor servicio al cliente que he tenido."),
        ("de", "Ehrlich gesagt der schlechteste Kundenservice, den ich je erlebt habe."),
        ("fr", "Franchement, c'est le pire service client que j'aie jamais connu."),
        ("en", "Are you kidding me? That is the same answer as yesterday."),
        ("es", "¿Me están tomando el pelo? Es la misma respuesta de ayer."),
        ("en", "Does anybody there know what they are doing?"),
        ("de", "Weiß bei Ihnen eigentlich irgendjemand, was er tut?"),
        ("fr", "Est-ce que quelqu'un chez vous sait ce qu'il fait ?"),
        ("es", "Siempre prometen y nunca pasa nada."),
        ("de", "Zweimal wurde mir gesagt, es sei erledigt. Ist es nicht."),
        ("fr", "On m'a dit deux fois que c'était réglé, c'est faux."),
        ("en", "Frankly I expected much better from a company like yours."),
        ("de", "Von einer Firma Ihrer Größe hätte ich deutlich mehr erwartet."),
        ("es", "Me parece una falta de respeto total hacia el cliente."),
        ("fr", "C'est un manque de respect total envers vos clients."),
        ("en", "You people clearly don't care about your customers."),
        ("de", "Ihnen sind Ihre Kunden offensichtlich egal."),
        ("es", "He perdido horas de mi vida con este tema."),
        ("fr", "J'ai perdu des heures de ma vie avec ce problème."),
        ("en", "I'm at the end of my rope here."),
        ("es", "No aguanto más esta situación."),
        ("en", "Your support has been a disaster from day one."),
        ("de", "Ihr Support ist vom ersten Tag an eine einzige Katastrophe."),
        ("de", "Das ist jetzt schon der vierte Mitarbeiter, der mir etwas anderes erzählt."),
        ("fr", "Incroyable. Personne ne m'a rappelé."),
        ("fr", "Combien de fois faut-il que je vous l'explique ?"),
        ("de", "Das ist jetzt das dritte Mal, dass ich wegen derselben Sache schreibe."),
        ("de", "Ich bin wirklich am Ende mit meiner Geduld."),
        ("en", "I have reached the end of my patience with this order."),
        ("es", "Se me ha agotado la paciencia con este pedido."),
        ("fr", "Je suis à bout de patience avec cette commande."),
    ],
)
def test_frustration_in_new_registers_fires(language: str, text: str) -> None:
    assert Trigger.FRUSTRATION in triggers(language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I was a bit annoyed at first, but your colleague fixed it. Thanks!"),
        ("de", "Ich war erst etwas genervt, aber jetzt läuft alles. Danke!"),
        ("fr", "J'étais un peu agacée au début, mais tout est réglé, merci !"),
        ("en", "This is the best service I have ever had, honestly."),
        ("es", "Es el mejor servicio que he tenido nunca."),
        ("en", "Seriously, thank you. You saved my day."),
        ("es", "Perdone que le moleste otra vez, ¿me confirma la dirección?"),
        ("en", "How many times can I change the delivery date?"),
        ("fr", "Combien de fois puis-je changer la date de livraison ?"),
        ("en", "I expected it to be bigger, can I exchange it for the large size?"),
        ("de", "Mir wurde gesagt, es sei erledigt, und es klappt jetzt. Danke!"),
        ("en", "Does anybody there know if the store opens on Sunday?"),
        ("en", "Is there a different version of the app for tablets?"),
        ("de", "Das ist das dritte Mal, dass ich bei euch bestelle, super Shop!"),
        ("de", "Es ist das erste Mal, dass ich ein Problem habe."),
        ("en", "This is ridiculously good value, can I upgrade my plan?"),
        ("en", "The new plan is absurdly cheap, where do I sign up?"),
        ("en", "The putative delivery date was Monday, can you confirm it?"),
    ],
)
def test_calm_look_alikes_stay_calm(language: str, text: str) -> None:
    assert Trigger.FRUSTRATION not in triggers(language, text)
