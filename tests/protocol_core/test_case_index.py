"""The evidence that names each arbitrator's case file: round trip, and other evidence names nothing."""

from protocol_core.case_index import case_files_in, case_index_uri

READER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"


def test_index_round_trips_with_lower_case_readers():
    uri = case_index_uri({READER: "file:///blobs/0xab", "0x" + "1" * 40: "https://store/blobs/0xcd"})
    assert uri.startswith("data:application/json,") and " " not in uri
    assert case_files_in(uri) == {
        READER.lower(): "file:///blobs/0xab",
        "0x" + "1" * 40: "https://store/blobs/0xcd",
    }


def test_other_evidence_names_no_case_files():
    assert case_files_in("data:text/plain,the charge was never refunded") == {}
    assert case_files_in("data:application/json,%7B%22name%22%3A%22x%22%7D") == {}
    assert case_files_in("data:application/json,not json") == {}
    assert case_files_in("ipfs://bundle") == {}
