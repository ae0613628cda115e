from byok.redact import REDACTED, scrub

KEY = "sk-proj-Abc123def456ghi789jkl012mno345"


def test_exact_and_masked_echoes_are_removed() -> None:
    text = f"Incorrect API key provided: sk-proj-****************************o345. Also {KEY}."
    cleaned = scrub(text, [KEY])
    assert KEY not in cleaned
    assert "o345" not in cleaned
    assert REDACTED in cleaned
    assert "Incorrect API key provided" in cleaned


def test_partial_echo_sharing_head_or_tail_is_removed() -> None:
    cleaned = scrub("key sk-proj-Abc1xxxxxxxxxxxxxx rejected", [KEY])
    assert "sk-proj-Abc1" not in cleaned


def test_pem_blocks_are_removed() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    assert "MIIEvQ" not in scrub(f"bad key {pem} here", [])


def test_ordinary_text_is_kept() -> None:
    assert scrub("model gpt-4.1 not found", [KEY]) == "model gpt-4.1 not found"
