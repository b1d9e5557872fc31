"""Operators publish where their nodes are reached (setEndpoint); nodes find their peers from it."""

from devtools.reverts import reverts

URL = "https://op1.example:8700"


def test_set_endpoint_stores_the_url_and_emits_it(oracle, operators):
    op = operators[0]

    tx = oracle.setEndpoint(URL, sender=op)

    assert tx.events == [oracle.EndpointSet(op, URL)]
    assert oracle.endpointOf(op) == URL
    assert oracle.endpointOf(operators[1]) == ""


def test_set_endpoint_replaces_and_an_empty_string_withdraws(oracle, operators):
    op = operators[0]
    oracle.setEndpoint(URL, sender=op)

    oracle.setEndpoint("http://10.0.0.2:8700", sender=op)
    assert oracle.endpointOf(op) == "http://10.0.0.2:8700"
    tx = oracle.setEndpoint("", sender=op)

    assert tx.events == [oracle.EndpointSet(op, "")]
    assert oracle.endpointOf(op) == ""


def test_set_endpoint_reverts_for_someone_outside_the_set(oracle, stranger):
    with reverts(oracle.NotActiveOperator, account=stranger):
        oracle.setEndpoint(URL, sender=stranger)


def test_set_endpoint_reverts_for_a_removed_operator(oracle, deployer, operators):
    op = operators[2]
    oracle.setEndpoint(URL, sender=op)
    oracle.removeOperator(op, sender=deployer)

    with reverts(oracle.NotActiveOperator, account=op):
        oracle.setEndpoint("https://elsewhere.example", sender=op)
    assert oracle.endpointOf(op) == URL  # what it published stays readable; nodes skip removed operators


def test_set_endpoint_takes_256_bytes_and_reverts_on_more(oracle, operators):
    op = operators[0]
    longest = "https://" + "a" * 248
    oracle.setEndpoint(longest, sender=op)
    assert oracle.endpointOf(op) == longest

    with reverts(oracle.EndpointTooLong, length=257, max=256):
        oracle.setEndpoint(longest + "a", sender=op)
