# ruff: noqa: E501, RUF001  (test data: whole credentials and look-alike letters on one line)
"""secrets: provider tokens, private keys and high-entropy assignments; placeholders don't fire."""

from __future__ import annotations

import base64
import itertools
import json
import random
import string

import pytest

from guard.classify.base import Finding, LocalClassifier
from guard.classify.builtin.secrets import _drop_generic_overlaps
from guard.classify.registry import build_classifier
from guard.types import Segment, Stage
from tests.unit.classify.builtin_helpers import PROVIDER_KEYS, classify, found, lines_run

# Synthetic values in each provider's documented shape (none is a live credential).
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
ANTHROPIC = "sk-ant-api03-" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kM9nP2rS5uV8xA1cD4fG7iL0oR3tU6wY9zB2" + "dE5gH8jK1mN4pQ7sT0"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "label", "value"),
    [
        ("key id AKIAIOSFODNN7EXAMPLE in the log", "secret:aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"),
        ('aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', "secret:aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        (f"token {GITHUB} here", "secret:github_token", GITHUB),
        ("GITLAB=glpat-Xy9zAb3dE6gH9jK2mN5p", "secret:gitlab_token", "glpat-Xy9zAb3dE6gH9jK2mN5p"),
        ("slack xoxb-2410219843-8JkXyZ1234abcd ok", "secret:slack_token", "xoxb-2410219843-8JkXyZ1234abcd"),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "secret:stripe_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ("maps AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI;", "secret:google_api_key", "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"),
        ("OPENAI_API_KEY=sk-proj-Tq3vX8bN2mK7pL4wR9sD1fG6hJ0", "secret:openai_key", "sk-proj-Tq3vX8bN2mK7pL4wR9sD1fG6hJ0"),
        (f"x-api-key: {ANTHROPIC}", "secret:anthropic_key", ANTHROPIC),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "secret:jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
        (f"here is my key:\n{PEM}\nthanks", "secret:private_key", PEM),
        ('db_password: "Xk9#mPq2!zR"', "secret:generic", "Xk9#mPq2!zR"),
        ("SESSION_TOKEN=8f14e45fceea167a5a36dedd4bea2543", "secret:generic", "8f14e45fceea167a5a36dedd4bea2543"),
    ],
)
def test_secrets_are_found_with_exact_spans(text: str, label: str, value: str) -> None:
    """Each credential kind is found and its span covers exactly the secret."""
    verdict = classify("secrets", text)
    assert "secret" in verdict.labels and label in verdict.labels
    assert (label, value) in found(verdict, text)


# Where each provider's key is pasted: its own config file, header or command.
PASTED = {
    "huggingface_token": "HF_TOKEN={key}",
    "npm_token": "//registry.npmjs.org/:_authToken={key}",
    "pypi_token": "[pypi]\nusername = __token__\npassword = {key}\n",
    "sendgrid_key": "sg = SendGridAPIClient('{key}')",
    "digitalocean_token": "doctl auth init -t {key}",
    "shopify_token": "X-Shopify-Access-Token: {key}",
    "databricks_token": "databricks configure --token {key} please",
    "age_secret_key": "# public key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n{key}",
}


@pytest.mark.parametrize("kind", PROVIDER_KEYS)
def test_a_provider_key_is_found_alone_with_its_span(kind: str) -> None:
    """Hugging Face, npm, PyPI, SendGrid, DigitalOcean, Shopify, Databricks and age keys, by their
    documented prefixes and lengths, went unfound (or, after a secret-like name, were found only as
    `generic`): each is found as its kind, its span the key, and nothing else."""
    text = PASTED[kind].format(key=PROVIDER_KEYS[kind])
    assert found(classify("secrets", text), text) == [(f"secret:{kind}", PROVIDER_KEYS[kind])]


GOOGLE = "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0" * 8 + "xy"


@pytest.mark.parametrize(("kind", "key"), [
    *[(kind, key) for kind, key in PROVIDER_KEYS.items() if kind != "pypi_token"],  # open length
    ("google_api_key", GOOGLE), ("github_token", GITHUB_PAT)])
@pytest.mark.parametrize("glued", ["END", "7", "_x"])
def test_a_key_of_fixed_length_is_found_with_characters_glued_after_it(kind: str, key: str,
                                                                        glued: str) -> None:
    """From a probe: a key of a fixed length with a word character right after it (`<key>END`,
    what a model asked to append letters writes) was not found for seven of the eight provider
    kinds, nor a GitHub fine-grained token or a Google key: each pattern ended at a word's end.
    The key is found, its span the key alone."""
    text = f"here: {key}{glued} thanks"
    assert found(classify("secrets", text), text) == [(f"secret:{kind}", key)]


# A key of every kind with a prefix of its own (PROVIDER_KEYS beside these).
PREFIXED_KEYS = {
    "aws_access_key_id": "AKIAQZ7XW3JD5R6TLM2P",
    "github_token": GITHUB,
    "github_pat": GITHUB_PAT,
    "gitlab_token": "glpat-Xy9zAb3dE6gH9jK2mN5p",
    "slack_token": "xoxb-2410219843-8JkXyZ1234abcd",
    "stripe_key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "google_api_key": GOOGLE,
    "anthropic_key": ANTHROPIC,
    "openai_key": "sk-proj-Tq3vX8bN2mK7pL4wR9sD1fG6hJ0",
    "openai_legacy": "sk-" + "Zq4Lm8Rt2Wx6Yp1Vn5Kc" + "T3BlbkFJ" + "h9Gd3Sb7Fa0Ej4Tu8Io2Qw6P",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    **PROVIDER_KEYS,
}


@pytest.mark.parametrize("name", PREFIXED_KEYS)
@pytest.mark.parametrize("glued", ["abc", "token", "7", "x_"])
def test_a_key_glued_after_letters_or_digits_is_found(name: str, glued: str) -> None:
    """From a probe: a key with letters or digits glued before it (`abcghp_...`, `tokenAKIA...`,
    what a model asked to prepend letters writes) passed, every kind: each pattern began at a
    word's start. A key with a prefix of its own is read where the prefix begins; the span is the
    key alone."""
    key = PREFIXED_KEYS[name]
    kind = {"github_pat": "github_token", "openai_legacy": "openai_key"}.get(name, name)
    text = f"here: {glued}{key} thanks"
    assert found(classify("secrets", text), text) == [(f"secret:{kind}", key)]


@pytest.mark.parametrize("text", [
    "see the risk-assessment-framework-2024-q3-final notes",  # `sk-` ends "risk"
    "run task-scheduler-v2-migration-plan-2031 first",
    "def bookmark_test_createsBookmarkFromSharedUrl(self):",  # `rk_test_`, no digit
    "def task_test_fetches2remoteconfigsinorder(self):",  # `sk_test_`, no capital
    "counts laughs_" + "perminuteacrosseveryrecordedsessionx" + " here",  # `ghs_`, letters alone
    "blob j166tWbYEWYfIRy5Ss4Xsk-T53rb0BWGjfFcJmkLVG2Hvr7B_A16Bl12l-R-JQ4w4JPbDHRO3059Kr1m end",
    # from a probe: identifiers flagged once keys glued after letters were read
    "def bookmark_test_CheckUserLogin2FAWorksOnMobile(): pass",  # `rk_test_`, words
    "if (network_live_StreamHandlerV2ForMobileClients) {}",  # `rk_live_`
    "model = AutoModel.push_to_hf_hubWithAuthenticationAndRetryLogicEnabled(x)",  # `hf_`
    "daily_highs_ZxQ3kLm9PqR7sT2vW4yA6bC8dE0fG1hJ5nM3 = 1",  # `ghs_` ends "highs"
    "run_npm_installDependenciesForWorkspace1234567 && echo ok",  # `npm_`
    "const url = rapidapi0123456789abcdef0123456789abcdef;",  # `dapi` ends "rapid api"
    "condor_v1_8b0e7153bf7c3706d85c524e440066559a6656c90bd5482a90a29b9fa5ff5180()",  # `dor_v1_`
])
def test_a_word_ending_as_a_key_prefix_begins_is_not_a_key(text: str) -> None:
    """Prefixes that also end words and names (`sk-`, `sk_test_`, `ghs_`) are read glued only when
    what follows reads as generated (upper- and lower-case letters and digits) and, for `sk-`, is
    one of OpenAI's own keys: hyphenated slugs, test names and a random base64url run are not."""
    verdict = classify("secrets", text)
    assert not verdict.fired, found(verdict, text)


OPENAI_NAMED_KEYS = [
    "sk-proj-Ab3dEf5hIj7lMn9pQr1tUv3xYz5bCd7fGh9jKl1nOp3rSt5vWx7zAb9dEf1hIj3lMn5p",
    "sk-svcacct-Zq8Lm2Nx4Vb6Ty1Rw3Ek5Jh7Gf9Dc0Sa2Pl4Ko6Ij8Uh1Yg3Tf5Rd7Es9Wa",
    "sk-admin-Hj4Kl6Mn8Pq0Rs2Tu4Vw6Xy8Za1Bc3De5Fg7Hi9Jk1Lm3No5Pq7Rs9Tu1Vw3",
]


@pytest.mark.parametrize("key", OPENAI_NAMED_KEYS)
@pytest.mark.parametrize("words", ["task-", "mask-based-", "Ask-", "id: desk-", "disk-0-",
                                   "risk-assessment-2024-q3-"])
def test_an_openai_key_after_a_word_ending_in_sk_is_found(words: str, key: str) -> None:
    """From a probe: since keys glued after letters are read, `task-sk-proj-...` went unfound
    (15 of 15 forms; found before): the pattern began at the `sk-` of "task-" and ran on through
    the key, the match was no key (a word's `sk-`), and RE2's matches do not overlap, so the key
    inside was never tried. A match that is no key is tried again within itself."""
    text = f"Here it is: {words}{key} done."
    assert found(classify("secrets", text), text) == [("secret:openai_key", key)]


AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ4vB8nW3t"


@pytest.mark.parametrize("text", [
    "aws s3 sync private/ /mnt/data/backups/production/database/snapshots/daily",
    "AWS private subnet config in /etc/terraform/modules/networking/vpc/private/subnets",
    "The AWS Secrets Manager secret version hash: "
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "aws secret rotation notes: /Users/Admin/Projects/Backup2024/ConfigurationFilesForProduction",
    f"the laws on private data: {AWS_SECRET}",
    f"she draws a secret = {AWS_SECRET}",
])
def test_a_run_after_aws_secret_that_is_no_key_is_not_one(text: str) -> None:
    """From a probe: with its trailing word boundary gone, the AWS secret pattern took the first
    40 characters of any longer run after "aws ... secret/private": a path, a SHA-256 (3 benign
    prompts blocked, passed before), and "aws" inside "laws" or "draws". "aws" starts a word now,
    and a run longer than 40 is a key glued to more only when it mixes cases and digits and is
    not words."""
    verdict = classify("secrets", text, generic=False)
    assert "secret:aws_secret_access_key" not in verdict.labels, found(verdict, text)


@pytest.mark.parametrize("name", ["AWS secret key: ", "myAwsSecretKey=", "AWS_PRIVATE_KEY='"])
def test_an_aws_secret_glued_to_a_longer_run_is_masked_whole(name: str) -> None:
    """`AWS secret key: <40 characters><40 more>` masked the first 40 alone; the run is masked
    whole."""
    run = AWS_SECRET + "Zx9" + AWS_SECRET[::-1]
    text = f"{name}{run} ok"
    assert found(classify("secrets", text, generic=False), text) == [
        ("secret:aws_secret_access_key", run)]


@pytest.mark.parametrize(("before", "after"), [("", "END"), ("", "7"), ("", "_x"), ("abc", "")])
def test_an_aws_secret_key_glued_to_characters_is_found_and_masked_whole(before: str, after: str) -> None:
    """The AWS secret access key (40 characters after its name) still ended at a word's end, so
    `<secret>END` was no AWS key; it is one, its span the 40 characters. Glued after letters, its
    40 characters are read from the glue, and the secret-named value (`generic`), which reaches
    past them, is kept: the run is masked whole, no character of the secret left out."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ4vB8nW3t"
    text = f"aws_secret_access_key = {before}{secret}{after}\n"
    verdict = classify("secrets", text)
    spans = found(verdict, text)
    assert "secret:aws_secret_access_key" in verdict.labels
    assert any(secret in value for label, value in spans if label == "secret:aws_secret_access_key")
    run = text.index(before + secret)
    assert all(any(s.start <= i < s.end for s in verdict.spans)
               for i in range(run, run + len(before + secret + after))), spans


@pytest.mark.parametrize(("label", "value"), [
    ("secret:pypi_token", "pypi-AgENdGVzdC5weXBpLm9yZw" + PROVIDER_KEYS["pypi_token"][20:]),  # TestPyPI
    *[("secret:digitalocean_token", prefix + PROVIDER_KEYS["digitalocean_token"][4:])
      for prefix in ("doo_", "dor_")],  # OAuth, refresh
    *[("secret:shopify_token", prefix + PROVIDER_KEYS["shopify_token"][6:])
      for prefix in ("shpca_", "shppa_", "shpss_")],  # custom app, private app, shared secret
    ("secret:databricks_token", PROVIDER_KEYS["databricks_token"] + "-2"),  # Azure Databricks
])
def test_each_documented_prefix_of_a_provider_is_found(label: str, value: str) -> None:
    text = f"the key: {value}, thanks"
    assert found(classify("secrets", text), text) == [(label, value)]


@pytest.mark.parametrize("text", [
    "dapiece of cake, the baker said",
    "Dear SG.Smith, thanks for the SG.Report.Final notes",
    "the hf_ prefix marks a Hugging Face token; hf_hub_download fetches a file",
    "npm_config_registry and npm_package_version are set by npm run",
    "pip install pypi-server; pypi-AgEIcHlwaS5vcmc starts every PyPI token",
    "dop_v1_ tokens are DigitalOcean's; shpat_ and shpss_ are Shopify's; AGE-SECRET-KEY-1 is age's",
    "hf_" + "iKZWeqhFWCEPyYngFbyBMWXaSCrUZoLgu",  # 33 letters
    "hf_" + "iKZWeqhFWCEPyYngFbyBMWXaSCrUZoLgu7",  # a digit among the 34
    "dapi" + "a4c123b1612dd272d1371c17149d439",  # 31 hex
    "dapi" + "applicationprogramminginterfaces",  # 32 letters, not hex
    "shpat_" + "administrativeaccesstokenforshop",  # 32 letters, not hex
    "dop_v1_" + "8b0e7153bf7c3706d85c524e440066559a6656c90bd5482a90a29b9fa5ff518",  # 63 hex
    "SG." + "EMnY9tlicZLhCUJwnHBdH" + "." + "yvNLVlRXFwF8JlMaLNy02K35uDNHfkf7J8Rszi0z4Jx",  # an id of 21
    "AGE-SECRET-KEY-1" + "WHCGVZ9G0DEPALACLVE9LWP367C8SXYCCXR409LDFYZLVFAUJKMG2X5KLB",  # B: not Bech32
])
def test_near_misses_of_provider_keys_are_not_secrets(text: str) -> None:
    """Words and prose that share a provider's prefix, and keys a character short or of letters
    the format has not, are not keys."""
    verdict = classify("secrets", text)
    assert not verdict.fired, found(verdict, text)


def test_an_aws_key_id_written_with_separators_is_found() -> None:
    """From a probe: an AWS key id in groups of four, or a character a line, passed the default
    pack in a prompt and in an answer. One kind of separator throughout, and a digit (upper-case
    words after "ASIA" have none)."""
    for value in ("AKIA IOSF ODNN 7EXA MPLE", "AKIA-IOSF-ODNN-7EXA-MPLE", "\n".join("AKIAIOSFODNN7EXAMPLE")):
        text = f"my key is\n{value}\nthanks"
        assert found(classify("secrets", text), text) == [("secret:aws_access_key_id", value)]
    for text in ("ASIA WIDE TEAM BEST DEAL", "ASIA TOUR DATE SALE OPEN", "AKIA IOSF-ODNN 7EXA MPLE"):
        assert not classify("secrets", text).fired, text


@pytest.mark.parametrize(
    "text",
    [
        "password = changeme",
        'api_key = "YOUR_API_KEY_HERE"',
        "token = os.environ['GITHUB_TOKEN']",
        "secret: ${VAULT_SECRET}",
        "the password field must be at least 8 characters",
        "pip install sk-learn-tutorial-notes",
        "use the key 'primary' for the dictionary lookup",
        "-----BEGIN PUBLIC KEY----- is not a private key",
    ],
)
def test_placeholders_and_prose_are_not_secrets(text: str) -> None:
    """Placeholders, environment references and prose about secrets don't fire."""
    verdict = classify("secrets", text)
    assert not verdict.fired, found(verdict, text)


@pytest.mark.parametrize("separator", ["&", "&amp;"])
def test_a_value_in_a_url_query_ends_at_the_next_parameter(separator: str) -> None:
    """A secret-named parameter's value is read up to the next parameter, as a URL reads it, in HTML
    (`&amp;`) too: a short share token in a link does not become a random-looking value with the
    parameters after it (`token=a8f3c2e1&page=2` was blocked, `token=a8f3c2e1` alone was not),
    and a long one is found and masked alone."""
    for short in ("token=a8f3c2e1", "session_token=77ab12cd"):
        for link in (f"https://news.example.org/view?{short}{separator}page=2{separator}lang=en",
                     f"https://news.example.org/view?id=4{separator}{short}{separator}utm_medium=email"):
            verdict = classify("secrets", f"Read it here: {link}")
            assert not verdict.fired, found(verdict, link)
    token = "x7Kq2pLm9zQ4vB8nW3tR"
    text = f"Shared link: https://files.example.net/d?access_token={token}{separator}dl=1{separator}page=2"
    assert found(classify("secrets", text), text) == [("secret:generic", token)]
    text = "db_password=Xk9&mQ2$vL8@pR4 in the old config"
    assert found(classify("secrets", text), text) == [("secret:generic", "Xk9&mQ2$vL8@pR4")]


def test_truncated_private_key_header_fires() -> None:
    """A private key block without its END line (a stream cut short) is still caught."""
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
    assert "secret:private_key" in classify("secrets", text).labels


def test_generic_can_be_turned_off() -> None:
    """generic: false reports only provider formats."""
    assert not classify("secrets", 'db_password: "Xk9#mPq2!zR"', generic=False).fired


def test_a_key_with_an_accent_on_each_letter_is_found() -> None:
    """One combining accent per letter composes into accented letters ("ǵh́ṕ_..."): a reader drops
    them and has the key, so the secrets reading drops them too; the span covers the original."""
    key = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    accented = "".join(c + "\u0301" if c.isalpha() else c for c in key)
    text = f"here: {accented} ok"
    verdict = classify("secrets", text)
    assert verdict.fired and found(verdict, text)[0][1] == accented
    assert not classify("secrets", "un café très noir").fired


@pytest.mark.parametrize("disguise", [
    "".join(c + "\u20e3" for c in GITHUB),  # a keycap, of combining class 0, on every character
    "".join(c + "\u05b4" for c in GITHUB),  # a Hebrew point
    GITHUB[:10] + "\U000e0080" + GITHUB[10:],  # default-ignorable, unassigned
    GITHUB.replace("_", "\u02cd"),  # a modifier letter's low line for "_"
    GITHUB.replace("c", "\u03f2"),  # a Greek lunate sigma for "c"
])
def test_a_disguised_key_is_found_with_its_disguise(disguise: str) -> None:
    """From probes: a GitHub token disguised in these ways passed the default pack. Each is
    found, and its span covers every character of the disguise (redaction masks it whole)."""
    text = f"here: {disguise} ok"
    assert found(classify("secrets", text), text) == [("secret:github_token", disguise)]


def test_a_key_sent_in_two_messages_is_read_across_them() -> None:
    """Read with the end of the message before it (`Segment.context`), a key cut in two is found
    in the second message; its span starts in the message before, by the first half's length
    (`redaction.reaching_back` masks it there)."""
    built = build_classifier("t", {"type": "secrets"})
    key = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    first, second = f"my token is {key[:17]}", f"{key[17:]} and that is all"
    alone = built.classifier.classify_sync([Segment(second, "user", 1, Stage.PROMPT)])[0]
    joined = built.classifier.classify_sync(
        [Segment(second, "user", 1, Stage.PROMPT, (first,))])[0]
    assert not alone.fired and joined.fired
    assert [(s.start, second[:s.end]) for s in joined.spans] == [(-17, key[17:])]
    assert built.classifier.context_turns["user"] == 8  # what makes the runner attach it


@pytest.mark.parametrize(("spaces", "marks"), [(0, 0), (50, 80)])
def test_padding_either_message_does_not_put_the_key_out_of_reach(spaces: int, marks: int) -> None:
    """From a re-probe: the second message was read with the first only through its first 320
    characters as sent, so its letters padded with 80 combining marks each (which the reading
    drops) took the key's end out of reach: the key went through split, blocked whole. Reach
    counts the characters normalisation keeps, on both sides of the join (here the first
    half's letters are padded with zero-width spaces)."""
    built = build_classifier("t", {"type": "secrets"})
    first = "The key is " + "".join(c + "\u200b" * spaces for c in "AKIAIOSF")
    second = "".join(c + "\u0301" * marks for c in "ODNN") + "7EXAMPLE done."
    verdict = built.classifier.classify_sync(
        [Segment(second, "user", 1, Stage.PROMPT, (first,))])[0]
    assert [(s.start, s.end) for s in verdict.spans] == [(-8 * (1 + spaces), 4 * (1 + marks) + 8)]


def test_an_answer_continuing_the_prompt_is_read_between_its_text_and_the_suffix() -> None:
    """An answer read after the prompt's end it goes on from (`Segment.context`) and before a
    fill-in-the-middle suffix (`Segment.after`): a key it begins or ends there is found, and
    its span covers only the answer's characters; a key wholly in the suffix is not the
    answer's."""
    built = build_classifier("t", {"type": "secrets"})
    key = "AKIA" + "QZ7XW3JD5R6TLM2P"

    def spans(text: str, before: str = "", after: str = "") -> list[tuple[int, int]]:
        segment = Segment(text, "assistant", 0, Stage.COMPLETION, (before,) if before else (),
                          after=after)
        return [(s.start, s.end) for s in built.classifier.classify_sync([segment])[0].spans]

    assert spans(key[4:]) == [] and spans('"' + key[:-5]) == []
    assert spans(key[4:] + '"', before='ID = "AKIA') == [(0, 16)]
    assert spans('"' + key[:-5], after='TLM2P"') == [(1, 16)]
    assert spans(key[4:-5], before='"AKIA', after='TLM2P"') == [(0, 11)]
    assert spans("x = 1\n", after=f"{key}\n") == []


@pytest.mark.parametrize("second", ["&#74;D5R6TLM2P", "%4AD5R6TLM2P", "JD5R6<!---->TLM2P",
                                    "JD5R6**TLM2P**"], ids=["numeric", "percent", "comment", "bold"])
def test_a_key_split_across_texts_is_read_as_shown_across_them(second: str) -> None:
    """From a re-probe: an AWS key id cut in two across messages, a prompt and its answer, or
    an answer and its suffix, with a letter of one half written as a reference or markup inside
    it, was read joined only as written (16 of 16 forwarded; one text, or plain halves, were
    blocked). The joined text is read as shown too, and the span covers the half as written."""
    built = build_classifier("t", {"type": "secrets", "decoded": True})
    first = "key AKIAQZ7XW3"

    def spans(segment: Segment) -> list[tuple[int, int]]:
        return [(s.start, s.end) for s in built.classifier.classify_sync([segment])[0].spans
                if s.label == "secret:aws_access_key_id"]

    end = len(second.removesuffix("**"))
    assert spans(Segment(f"{second} ok", "user", 1, Stage.PROMPT)) == []
    assert spans(Segment(f"{second} ok", "user", 1, Stage.PROMPT, (first,))) == [(-10, end)]
    assert spans(Segment(f"{second} ok", "assistant", 0, Stage.COMPLETION, (first,))) == [(0, end)]
    assert spans(Segment(first, "assistant", 0, Stage.COMPLETION, after=f"{second}'")) == [(4, 14)]


def test_a_key_sent_in_nine_pieces_is_read_across_them() -> None:
    """Each piece read with the eight before it: the last finds the key, and its span covers
    the last piece and reaches back over the seven before."""
    built = build_classifier("t", {"type": "secrets"})
    key = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    pieces = [key[i:i + 5] for i in range(0, len(key), 5)]
    assert len(pieces) == 8
    pieces = ["my token is", *pieces]
    verdicts = built.classifier.classify_sync(
        [Segment(p, "user", i, Stage.PROMPT, tuple(pieces[max(0, i - 8):i]))
         for i, p in enumerate(pieces)])
    assert [v.fired for v in verdicts] == [False] * 8 + [True]
    assert [(s.start, s.end) for s in verdicts[-1].spans] == [(-35, 5)]


def test_homoglyph_token_is_found() -> None:
    """A token whose prefix uses Cyrillic look-alikes is still found (normalised first)."""
    text = "АKIAIOSFODNN7EXAMPLE"
    assert "secret:aws_access_key_id" in classify("secrets", text).labels


@pytest.mark.parametrize("encode", [
    lambda b: base64.b64encode(b).decode(),
    lambda b: b.hex(),
    lambda b: " ".join(f"{x:08b}" for x in b),
], ids=["base64", "hex", "binary"])
def test_decoded_finds_a_key_inside_an_encoded_run(encode) -> None:  # type: ignore[no-untyped-def]
    """With `decoded`, a key written in base64, hex or binary is found, and the span covers the
    whole run (redaction replaces all of it); by default the run is opaque, and a finding keeps
    its 320-character bound only then."""
    payload = encode(b"the deploy key is AKIAIOSFODNN7EXAMPLE, keep it safe")
    text = f"Here it is, encoded as you asked: {payload}"
    assert not classify("secrets", text).fired
    verdict = classify("secrets", text, decoded=True)
    assert verdict.labels == {"secret", "secret:aws_access_key_id"}
    assert found(verdict, text) == [("secret:aws_access_key_id", payload)]


@pytest.mark.parametrize("encode", [
    lambda b: base64.b64encode(b).decode(), lambda b: b.hex(),
], ids=["base64", "hex"])
def test_decoded_finds_a_key_encoded_alone(encode) -> None:  # type: ignore[no-untyped-def]
    """A key encoded on its own (no words around it in the decoded text) is found too."""
    for key in (b"AKIAIOSFODNN7EXAMPLE", b"ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"):
        payload = encode(key)
        verdict = classify("secrets", f"the value: {payload}", decoded=True)
        assert verdict.fired and found(verdict, f"the value: {payload}")[0][1] == payload


ONE = GITHUB[9]  # written as a reference or an escape below (a letter follows it)


@pytest.mark.parametrize("written", [
    f"{GITHUB[:9]}&#{ord(ONE)};{GITHUB[10:]}",  # one character as a decimal reference
    f"{GITHUB[:9]}&#x{ord(ONE):x};{GITHUB[10:]}",  # as a hexadecimal one
    f"{GITHUB[:9]}&#x0000{ord(ONE):x};{GITHUB[10:]}",  # zero-padded
    f"{GITHUB[:9]}&#{ord(ONE)}{GITHUB[10:]}",  # without its ";", as a browser reads it
    f"{GITHUB[:9]}%{ord(ONE):02X}{GITHUB[10:]}",  # percent-escaped
    GITHUB.replace("_", "&lowbar;"),  # a named reference
    "ghp_" + "".join(f"&#{ord(c)};" for c in GITHUB[4:]),  # a plain prefix, then all references
], ids=["decimal", "hex", "padded", "no-semicolon", "percent", "named", "prefix-then-run"])
def test_decoded_finds_a_key_written_partly_as_references(written: str) -> None:
    """From a probe: a key with some characters written as HTML character references or
    percent-escapes passed the default pack (only runs of eight or more were decoded, each
    alone). With `decoded`, the text is read once more with them decoded in place, and the span
    covers the key as written, references included (redaction masks it whole)."""
    text = f"my GitHub token (HTML-escaped) is {written}. Thanks"
    assert not classify("secrets", text).fired
    verdict = classify("secrets", text, decoded=True)
    assert found(verdict, text) == [("secret:github_token", written)]


AWS_ID = "AKIAQZ7XW3JD5R6TLM2P"


@pytest.mark.parametrize(("written", "label"), [
    (GITHUB.replace("_", "\\_"), "secret:github_token"),  # Markdown's escaped underscore
    (f"{AWS_ID[:10]}**{AWS_ID[10:]}**", "secret:aws_access_key_id"),  # half in bold
    (f"{AWS_ID[:10]}`{AWS_ID[10:12]}`{AWS_ID[12:]}", "secret:aws_access_key_id"),  # code inside
    (f"{GITHUB[:14]}<!-- -->{GITHUB[14:]}", "secret:github_token"),  # an empty HTML comment inside
    (f"{GITHUB[:14]}<span class=x></span>{GITHUB[14:]}", "secret:github_token"),  # empty tags
    (f"{AWS_ID[:10]}\x1b[0m{AWS_ID[10:]}", "secret:aws_access_key_id"),  # a terminal's colour reset
    (f"{AWS_ID[:10]}\x1b]8;;\x07{AWS_ID[10:]}", "secret:aws_access_key_id"),  # an OSC sequence
    (f"{AWS_ID[:10]}<!-->{AWS_ID[10:]}", "secret:aws_access_key_id"),  # an abrupt empty comment
    (f"{AWS_ID[:10]}<!--->{AWS_ID[10:]}", "secret:aws_access_key_id"),
    (f"{AWS_ID[:10]}<!x>{AWS_ID[10:]}", "secret:aws_access_key_id"),  # bogus comments
    (f"{AWS_ID[:10]}<?x?>{AWS_ID[10:]}", "secret:aws_access_key_id"),
    (f"{AWS_ID[:10]}<![CDATA[]]>{AWS_ID[10:]}", "secret:aws_access_key_id"),
    (f"{AWS_ID[:10]}<!--{'x' * 300}-->{AWS_ID[10:]}", "secret:aws_access_key_id"),  # a long comment
    (f"{AWS_ID[:10]}<span title='a>b'>{AWS_ID[10:]}", "secret:aws_access_key_id"),  # quoted ">"
    (f"{AWS_ID[:10]}<a_b>{AWS_ID[10:]}", "secret:aws_access_key_id"),  # any tag name
    (f"{AWS_ID[:10]}<x:y>{AWS_ID[10:]}", "secret:aws_access_key_id"),
    (f"{AWS_ID[:10]}&shy{AWS_ID[10:]}", "secret:aws_access_key_id"),  # a reference without ";"
    (f"[{AWS_ID[:10]}](https://x.example){AWS_ID[10:]}", "secret:aws_access_key_id"),  # a link
    (f"{AWS_ID[:10]}[](https://x.example){AWS_ID[10:]}", "secret:aws_access_key_id"),  # empty link
    (f"{AWS_ID[:10]}\x1b(B\x1b[m{AWS_ID[10:]}", "secret:aws_access_key_id"),  # tput sgr0
    (f"{AWS_ID[:10]}\x9b0m{AWS_ID[10:]}", "secret:aws_access_key_id"),  # an 8-bit CSI
    (f"{AWS_ID[:10]}X\b{AWS_ID[10:]}", "secret:aws_access_key_id"),  # overwritten after a backspace
    (f"{AWS_ID[:10]}X\x1b[1D{AWS_ID[10:]}", "secret:aws_access_key_id"),  # after a step back
    (f"{AWS_ID[:10]}<style>x</style>{AWS_ID[10:]}", "secret:aws_access_key_id"),  # not shown
    (f"{AWS_ID[:10]}<span hidden>x</span>{AWS_ID[10:]}", "secret:aws_access_key_id"),
    (f"{AWS_ID[:10]}<span title='{'x' * 300}'>{AWS_ID[10:]}", "secret:aws_access_key_id"),
], ids=["escaped-underscore", "bold-half", "code-inside", "comment", "tags", "ansi-csi", "ansi-osc",
        "abrupt-comment", "abrupt-comment-2", "bogus-comment", "processing-instruction", "cdata",
        "long-comment", "quoted-gt", "tag-name-underscore", "tag-name-colon", "shy-without-semicolon",
        "link-text", "empty-link", "charset-designation", "c1-csi", "backspace", "cursor-back",
        "style-contents", "hidden-contents", "long-attribute"])
def test_decoded_finds_a_key_with_markup_inside(written: str, label: str) -> None:
    """From a probe: a key with markup inside that a Markdown chat UI or a terminal shows as
    nothing (or as the punctuation it escapes) passed both ways, whole and streamed. With
    `decoded`, the text is also read as shown, and the span covers the key as written, the
    markup inside included."""
    text = f"Here it is: {written} keep it safe"
    assert label not in {s.label for s in classify("secrets", text).spans}
    verdict = classify("secrets", text, decoded=True)
    assert (label, written.removesuffix("**")) in found(verdict, text)


@pytest.mark.parametrize("poison", [
    "&#" + "1" * 4301,  # more digits than `int` converts
    ("&#" + "0" * 4400 + "80;") * 11,  # a run of padded references (decode/runs.py)
], ids=["long-reference", "zero-padded-run"])
def test_a_reference_past_every_code_point_is_left_as_written(poison: str) -> None:
    """A re-probe: `int` refuses more than 4,300 digits, so one reference that long made the
    reading raise, and `secrets` and `pii` fail open: a key beside it reached the model. Past any
    code point's digits (leading zeros aside) a reference stays as written."""
    text = f"my key {GITHUB} {poison}"
    verdict = classify("secrets", text, decoded=True)
    assert ("secret:github_token", GITHUB) in found(verdict, text)


def test_references_decoded_in_place_add_nothing_to_ordinary_text() -> None:
    """URLs full of percent-escapes and HTML full of `&amp;` read decoded say what they said."""
    for text in (
        "see https://example.com/search?q=how%20to%20bake%20bread&amp;lang=en%2Dus&#38;page=2",
        "Tom &amp; Jerry &lt;3 &copy; 2024, 100% of 50%2 &#8212; fine",
    ):
        assert not classify("secrets", text, decoded=True).fired, text


def test_decoded_asks_streams_to_hold_encoded_runs() -> None:
    """A finding in a decoded run is as long as the run: a classifier reading them says so, and
    keeps its bound for everything else."""
    from guard.classify.builtin.secrets import SecretsClassifier, SecretsConfig

    plain, decoded = SecretsClassifier("s", SecretsConfig()), SecretsClassifier("s", SecretsConfig(decoded=True))
    assert plain.max_match_chars == decoded.max_match_chars == 320
    assert decoded.reads_encoded_runs and not plain.reads_encoded_runs


def test_a_key_written_with_json_escapes_is_found() -> None:
    """A tool call's arguments are JSON, and a client reads `\\u0041` as "A": so does guard; the
    span covers the escapes."""
    key = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    escaped = key[:6] + "".join(f"\\u{ord(c):04x}" for c in key[6:9]) + key[9:]
    text = f'{{"token": "{escaped}"}}'
    verdict = classify("secrets", text)
    assert verdict.fired and found(verdict, text)[0][1] == escaped
    aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert classify("secrets", f"aws_secret_access_key = {aws}").fired
    assert classify("secrets", f"aws_secret_access_key = {aws.replace('/', chr(92) + '/')}").fired


@pytest.mark.parametrize("escape", ["\\n", "\\t", "\\r", '\\"'])
def test_a_key_after_a_json_escape_is_found(escape: str) -> None:
    """A key starting a line of a tool call's arguments follows `\\n` in the JSON: a word
    starts there for the client, and for guard (it passed before)."""
    text = f'{{"content": "keys:{escape}AKIAIOSFODNN7EXAMPLE"}}'
    verdict = classify("secrets", text)
    assert verdict.fired and found(verdict, text)[0][1] == "AKIAIOSFODNN7EXAMPLE"


@pytest.mark.parametrize("text", ["ASIA PACIFIC FY25 SALES KICKOFF", "ASIA PACIFIC Q3 SALES 24 HIGHLIGHTS",
                                  "bucket ASIA-PACIFIC-FY25-SALES"])
def test_upper_case_words_after_asia_are_not_a_key(text: str) -> None:
    """From a second probe: a slide title or a bucket name starting with "ASIA" (a key prefix)
    and holding a figure read as a spaced key id and was blocked as a secret. A key written with
    separators is in groups of four (or one character a line)."""
    assert not classify("secrets", text).fired


@pytest.mark.parametrize("separator", ["\r\n", "  "])
def test_a_key_id_grouped_by_crlf_or_two_spaces_is_found(separator: str) -> None:
    """From a second probe: the Windows clipboard's and HTML forms' line break (CRLF), and two
    spaces, between a key id's groups or characters hid it."""
    key = "AKIAIOSFODNN7EXAMPLE"
    for written in (separator.join(key[i:i + 4] for i in range(0, 20, 4)), separator.join(key)):
        assert classify("secrets", f"key:\n{written}\n").fired, repr(written)


@pytest.mark.parametrize("separator", ["\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"],
                         ids=["cr", "vt", "ff", "nel", "ls", "ps"])
def test_a_key_id_one_a_line_is_found_whatever_breaks_its_lines(separator: str) -> None:
    """From a probe: a key id one character or four a line was found with LF and CRLF, not with
    CR, VT, FF, NEL or the line and paragraph separators (48 of 48 ways passed), which a text
    shows as line breaks too. The finding covers the key as written."""
    key = "AKIAQZ7XW3JD5R6TLM2P"
    for written in (separator.join(key[i:i + 4] for i in range(0, 20, 4)), separator.join(key)):
        text = f"Key:{separator}{written}{separator}done."
        assert found(classify("secrets", text), text) == [("secret:aws_access_key_id", written)], repr(written)


@pytest.mark.parametrize("marks", [["\n", "\r", "\u2028", "\x85"], ["\n", "\u2028"], ["\n", "\r"],
                                   ["\r\n", "\n"]])
def test_a_key_id_one_a_line_is_found_whatever_mix_of_breaks(marks: list[str]) -> None:
    """From a re-probe: each line break counted as a kind of separator of its own, so a key one
    character a line with LF, CR, U+2028 and NEL in turn (one screen shows them all alike) was
    no key (8 of 8 ways passed)."""
    key = "AKIAQZ7XW3JD5R6TLM2P"
    written = key[0] + "".join(marks[i % len(marks)] + char for i, char in enumerate(key[1:]))
    text = f"Key: {written} done."
    assert found(classify("secrets", text), text) == [("secret:aws_access_key_id", written)]


@pytest.mark.parametrize("separator", ["\n\n", "\r\r", "\r\n\r\n", "\u2028\u2028", " \n", "\n ",
                                       "\n  ", "\n\t", "\r\n\r\n\r\n", " \r\n\t"],
                         ids=["lf-lf", "cr-cr", "crlf-crlf", "ls-ls", "hard-break", "lf-space",
                              "lf-2-spaces", "lf-tab", "3-crlf", "space-crlf-tab"])
def test_a_key_id_with_blank_lines_or_indentation_between_is_found(separator: str) -> None:
    """From a re-probe: a key id one character or four a line was found with one line break, not
    with a blank line between (`\\n\\n`, `\\r\\n\\r\\n`, U+2028 twice), a Markdown hard break
    (`" \\n"`) or a break and indentation (`"\\n "`, `"\\n\\t"`): 32 of 32 ways passed. Up to three
    blanks (a CRLF one of them) read as one separator."""
    key = "AKIAQZ7XW3JD5R6TLM2P"
    for written in (separator.join(key[i:i + 4] for i in range(0, 20, 4)), separator.join(key)):
        text = f"Key:\n{written}\nthanks"
        assert found(classify("secrets", text), text) == [("secret:aws_access_key_id", written)], repr(written)


def test_a_key_id_with_four_blanks_between_its_characters_is_not_read_whole() -> None:
    """Four blanks or more part a key id's characters (a separator is at most three): letters
    one a paragraph are not read as one value."""
    text = "Key:\n" + "\n   ".join("AKIAQZ7XW3JD5R6TLM2P") + "\nthanks"
    assert not classify("secrets", text).fired


def test_a_key_id_in_groups_wrapped_over_lines_is_found() -> None:
    """From a re-probe: a key printed in groups of four and wrapped (a space, then line breaks)
    mixed two kinds of separator, and was no key."""
    written = "AKIA QZ7X\nW3JD\n5R6T\nLM2P"
    text = f"Key: {written} thanks"
    assert found(classify("secrets", text), text) == [("secret:aws_access_key_id", written)]


@pytest.mark.parametrize("text", ["AKIAQZ7XW3JD5R6TLM2Plorem ipsum", "id=AKIAIOSFODNN7EXAMPLEand more",
                                  "AKIA IOSF ODNN 7EXA MPLEfoo"])
def test_a_key_id_glued_to_lower_case_letters_is_found(text: str) -> None:
    """From a probe: a key id followed by lower-case letters (`AKIA...TLM2Plorem`) was no key
    (it must end at a word's end); a reader sees the key where the capitals end."""
    key = next(word for word in ("AKIAQZ7XW3JD5R6TLM2P", "AKIAIOSFODNN7EXAMPLE",
                                 "AKIA IOSF ODNN 7EXA MPLE") if word in text)
    assert found(classify("secrets", text), text) == [("secret:aws_access_key_id", key)]


@pytest.mark.parametrize("text", ["ASIAPACIFICSALESTEAMs", "AIDASTATEMENTOFWORKSto", "AKIAQZ7XW3JD5R6TLM2PLorem",
                                  "AKIAQZ7XW3JD5R6TLM2P_id"])
def test_capitals_glued_to_lower_case_letters_without_a_digit_are_not_a_key(text: str) -> None:
    """Upper-case words after a prefix glued to a lower-case tail have no digit; a run of
    capitals longer than a key, or one glued to `_`, is no key either."""
    assert not classify("secrets", text).fired, found(classify("secrets", text), text)


def test_words_in_groups_of_four_after_a_prefix_are_not_a_key() -> None:
    """From a third probe: "ASIA TEAM WEST ZONE Q3FY" (groups of four, a digit) was blocked."""
    for text in ("ASIA TEAM WEST ZONE Q3FY", "ACCA EXAM PASS RATE 2Q24", "AIDA CAST LIST ACT2 PART"):
        assert not classify("secrets", text).fired, text


def test_a_key_split_by_a_long_comment_before_another_comment_is_found() -> None:
    """From a probe: a comment longer than the 256 characters SHOWN reads, then another `<!--`
    after it, made the shown reading raise (the second was matched to the first's `-->`, an
    empty escape), and a classifier that raises fails open: the key went through. Each comment
    is read to its own `-->`."""
    key = "AKIA" + "QZ7XW3JD5R6TLM2P"
    text = f"key {key[:10]}<!-- {'x ' * 200}-->{key[10:]} and <!-- a note"
    assert found(classify("secrets", text, decoded=True), text) == [
        ("secret:aws_access_key_id", text[4:text.index(" and")])]



def _wrapped(run: str, width: int, newline: str = "\n") -> str:
    return newline.join(run[i:i + width] for i in range(0, len(run), width))


@pytest.mark.parametrize("width", [40, 64, 76])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("key", ["AKIAIOSFODNN7EXAMPLE", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"],
                         ids=["aws", "github"])
def test_decoded_finds_a_key_in_base64_wrapped_into_lines(width: int, newline: str, key: str) -> None:
    """From a probe: base64 wrapped into lines (MIME at 76 characters, PEM at 64, 40) was read
    line by line, and a key split across two lines passed, whole or streamed. A block of lines of
    one length is one run: the key is found, and the span covers all of the block, line breaks
    included."""
    head = ("the deploy notes " * 4)[:width * 3 // 4 - 9] + " "  # the key begins 8 bytes before the line ends
    payload = _wrapped(base64.b64encode(f"{head}{key} is the key".encode()).decode(), width, newline)
    first, second = payload.split(newline)[:2]
    assert key not in base64.b64decode(first).decode() + " " + base64.b64decode(second).decode()
    text = f"Here it is, encoded as you asked:{newline}{payload}{newline}Keep it safe."
    assert not classify("secrets", text).fired
    verdict = classify("secrets", text, decoded=True)
    assert verdict.fired
    assert found(verdict, text) == [(verdict.spans[0].label, payload)]


@pytest.mark.parametrize(
    "value", ["AKIAIOSFODNN7EXAMPLF", GITHUB, "secret=AKIAIOSFODNN7EXAMPLF", "password=Xq9vT2mL8pR4wZ7k"],
)
def test_a_scans_cost_grows_with_the_keys_it_finds_not_their_square(value: str) -> None:
    # each key found was compared with every one found before it, and each generic value with
    # every specific key: 2,340 `secret=<aws key id>` (64 KB) took 3.8 s of CPU
    few, many = (lines_run("secrets", f"{value} " * n) for n in (300, 600))
    assert many < 2.2 * few


def test_a_generic_value_is_dropped_when_specific_keys_cover_each_of_its_characters() -> None:
    rng = random.Random(5)
    for _ in range(300):
        found = [Finding(rng.choice(["secret:generic", "secret:aws_access_key_id"]), 1.0, start,
                         start + rng.randrange(1, 15))
                 for start in (rng.randrange(120) for _ in range(rng.randrange(1, 25)))]
        specific = [f for f in found if f.label != "secret:generic"]
        covered = {i for f in specific for i in range(f.start, f.end)}
        kept = [f for f in found if f.label == "secret:generic"
                and not covered.issuperset(range(f.start, f.end))]
        assert _drop_generic_overlaps(found) == specific + kept


# Lines run reading 1,000 short texts, each with the 8 before it (`Segment.context`), over the same
# texts read alone, before values longer than the reach were read whole across texts (5e21e6c, `_run_on`).
JOINED_COST_BEFORE = {False: 5.92, True: 4.37}
SHORT_TEXTS = [f"step {n}: read the file notes_{n}.txt and list what it says about the build"
               for n in range(1000)]


@pytest.mark.parametrize("decoded", [False, True], ids=["plain", "decoded"])
def test_texts_read_joined_with_no_long_value_cost_what_they_did(decoded: bool) -> None:
    """1,000 short texts with no long value are read once each across their cuts: what reads a
    long value whole costs them at most 5% more lines than before it (none is read wider)."""
    from tests.unit.classify.builtin_helpers import lines_counted
    secrets = build_classifier("t", {"type": "secrets", "decoded": decoded}).classifier
    joined = [Segment(t, "user", n, Stage.PROMPT, context=tuple(SHORT_TEXTS[max(0, n - 8):n]))
              for n, t in enumerate(SHORT_TEXTS)]
    alone = [Segment(t, "user", n, Stage.PROMPT) for n, t in enumerate(SHORT_TEXTS)]
    secrets.classify_sync(joined[:20])  # caches warmed
    ratio = lines_counted(lambda: secrets.classify_sync(joined)) / lines_counted(
        lambda: secrets.classify_sync(alone))
    assert ratio < 1.05 * JOINED_COST_BEFORE[decoded]


_RANDOM = random.Random(3)
LONG_PEM = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(
    "".join(_RANDOM.choice(string.ascii_letters + string.digits + "+/") for _ in range(64))
    for _ in range(25)) + "\n-----END PRIVATE KEY-----"
LONG_ENCODED = base64.b64encode(f"token {GITHUB} and more words to pad it out ".encode() * 6).decode()


@pytest.mark.parametrize("at", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("value", [LONG_PEM, LONG_ENCODED], ids=["pem", "base64"])
def test_a_value_longer_than_the_reach_cut_across_two_messages_is_masked_whole(
        value: str, at: float) -> None:
    """A value of 650 to 1,650 characters (the reach: 320) cut in two messages: the second's
    span covers its piece and reaches back over the first's (followed through its run,
    `_run_on`)."""
    cut = int(len(value) * at)
    first, second = "here: " + value[:cut], value[cut:] + " end"
    secrets = build_classifier("t", {"type": "secrets", "decoded": True}).classifier
    verdict = secrets.classify_sync([Segment(second, "user", 1, Stage.PROMPT, context=(first,))])[0]
    assert [(s.start, s.end) for s in verdict.spans] == [(-cut, len(second) - 4)]


def test_a_long_run_with_no_key_cut_across_two_messages_costs_linear_lines() -> None:
    """A run of base64 with no key in it, cut across two messages: twice as long a run costs
    about twice the lines, not four times."""
    from tests.unit.classify.builtin_helpers import lines_counted
    secrets = build_classifier("t", {"type": "secrets", "decoded": True}).classifier
    rng = random.Random(5)

    def lines(n: int) -> int:
        run = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))
        segment = Segment(run[n // 2:] + " ok", "user", 1, Stage.PROMPT, context=(run[:n // 2],))
        return lines_counted(lambda: secrets.classify_sync([segment]))

    few, many = lines(8_000), lines(16_000)
    assert many < 2.5 * few


def _masked(secrets: LocalClassifier, first: str, second: str) -> set[int]:
    """The offsets of `first` + `second`, two prompt messages, that `secrets` masks."""
    verdicts = secrets.classify_sync([Segment(first, "user", 0, Stage.PROMPT),
                                      Segment(second, "user", 1, Stage.PROMPT, context=(first,))])
    return {at for n, verdict in enumerate(verdicts) for span in verdict.spans
            for at in range(max(0, n * len(first) + span.start),
                            n * len(first) + min(span.end, (len(first), len(second))[n]))}


def test_a_pem_key_cut_anywhere_across_two_messages_has_its_body_masked() -> None:
    """A PEM key of 1,653 characters (the reach: 320) cut across two messages at every offset
    from its BEGIN line to its END line: each character of its body is masked. Cut so that
    what is read back from the cut starts inside the BEGIN line (1,281 to 1,298 once, when
    windows were doubled from the cut) its second piece had gone in clear."""
    body = range(6 + LONG_PEM.index("\n"), 6 + LONG_PEM.rindex("\n"))  # "here: " before it
    secrets = build_classifier("t", {"type": "secrets", "decoded": True}).classifier
    for cut in range(1, len(LONG_PEM)):
        first, second = "here: " + LONG_PEM[:cut], LONG_PEM[cut:] + " end"
        missed = sorted(set(body) - _masked(secrets, first, second))
        assert missed == [], (cut, missed[:3])


_PEM_LINES = LONG_PEM.split("\n")
# as YAML holds it (`tls.key: |`), each line indented; a legacy encrypted RSA key's header lines
INDENTED_PEM = "\n".join("  " + line for line in _PEM_LINES)
HEADED_PEM = "\n".join([_PEM_LINES[0].replace("BEGIN", "BEGIN RSA"), "Proc-Type: 4,ENCRYPTED",
                        "DEK-Info: AES-128-CBC,2F1A9C0B3D4E5F60718293A4B5C6D7E8", "",
                        *_PEM_LINES[1:-1], _PEM_LINES[-1].replace("END", "END RSA")])


@pytest.mark.parametrize("key", [INDENTED_PEM, HEADED_PEM], ids=["indented", "headers"])
def test_an_indented_or_headed_pem_key_cut_across_two_messages_has_its_body_masked(
        key: str) -> None:
    """A PEM key indented (each line after a break and two spaces), or with the header lines of a
    legacy encrypted key (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`), cut across two messages at
    every 5th offset: each character of its body is masked in both (its run had stopped at the
    first indentation, its match at the first header: 71 and 142 of its stretches of 24 went in
    clear cut at half, the whole key with its headers)."""
    opened = 6 + key.index("-----", 10) + 5  # "here: " before it; after the BEGIN line
    body = [at for at in range(opened, 6 + key.rindex("\n")) if not ("here: " + key)[at].isspace()]
    secrets = build_classifier("t", {"type": "secrets", "decoded": True}).classifier
    for cut in range(1, len(key), 5):
        first, second = "here: " + key[:cut], key[cut:] + " end"
        missed = sorted(set(body) - _masked(secrets, first, second))
        assert missed == [], (cut, missed[:3])


def _long_jwt(roles: int) -> str:
    """A JWT whose payload holds `roles` role names (the longer, the more of them)."""
    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")
    payload = json.dumps({"sub": "1", "roles": [f"r{n}" for n in range(roles)]}).encode()
    return ".".join([b64url(b'{"alg":"HS256","typ":"JWT"}'), b64url(payload),
                     b64url(random.Random(roles).randbytes(32))])


@pytest.mark.parametrize("roles", [25, 50, 150])  # 391, 671 and 1,565 characters
def test_a_jwt_longer_than_the_reach_cut_across_two_messages_is_masked_whole(roles: int) -> None:
    """A JWT longer than the reach (its payload holding claims) cut across two messages at every
    7th offset is masked whole in both: its header and a payload reaching a reading's end are
    found, and followed through its run (its two first parts had never been in one reading:
    12 of 55, 92 of 95 and 127 of 129 cuts had let it through, found in neither piece)."""
    token = _long_jwt(roles)
    secrets = build_classifier("t", {"type": "secrets", "decoded": True}).classifier
    value = range(len("Bearer "), len("Bearer ") + len(token))
    for cut in range(1, len(token), 7):
        first, second = "Bearer " + token[:cut], token[cut:] + " end"
        missed = sorted(set(value) - _masked(secrets, first, second))
        assert missed == [], (cut, missed[:3])


def test_a_jwt_header_and_payload_alone_is_found_only_at_a_readings_end() -> None:
    """A JWT's header and the start of a long payload are found where they reach the text's end
    (a reading cut inside the token), not where a space follows them."""
    head, payload, _ = _long_jwt(150).split(".")
    reaching = f"{head}.{payload[:200]}"
    text = "the token " + reaching
    assert found(classify("secrets", text), text) == [("secret:jwt", reaching)]
    assert found(classify("secrets", text + " and more"), text + " and more") == []


def test_a_token_far_into_a_base64_run_cut_off_its_quads_is_found_in_the_second_message(
        ) -> None:
    """Base64 of 3,000 characters and then a GitHub token, cut across two messages before the
    token by more than the reach at offsets off base64's quads: the second message is also
    decoded aligned to where its run began in the first, so the token's characters are masked
    (read alone it decoded misaligned, and nothing fired: cuts 1, 1,001, 3,601 leaked)."""
    plain = "x" * 3000 + "config token=" + GITHUB + " more text " + "y" * 200
    encoded = base64.b64encode(plain.encode()).decode()
    hidden = range(6 + 4 * 3013 // 3, 6 + 4 * (3013 + len(GITHUB)) // 3)  # "here: " before it
    secrets = build_classifier("t", {"type": "secrets", "decoded": True}).classifier
    for cut in [*range(1, 9), 1001, 1002, 1003, 2001, 3001, 3601, 3701, 3702, 3703]:
        first, second = "here: " + encoded[:cut], encoded[cut:] + " end"
        missed = sorted(set(hidden) - _masked(secrets, first, second))
        assert missed == [], (cut, missed[:3])


def _random_base64(seed: int) -> str:
    return base64.b64encode(random.Random(seed).randbytes(48_000)).decode()  # 64,000 characters


# Lines run reading 64,000 characters of random base64 in 9 or 64 prompt messages joined (each with
# the 8 before it), over the pieces read alone (each read once before: what is cached of a text
# read alone is cached for both), before values longer than the reach were read whole across
# texts (eddfa13). Read wider and wider at every cut (5e21e6c): 330 to 1,760.
RUN_COST_BEFORE = {("secrets", 9): 2.41, ("secrets", 64): 3.36, ("pii", 9): 1.39, ("pii", 64): 3.00}


@pytest.mark.parametrize("pieces", [9, 64])
@pytest.mark.parametrize("name", ["secrets", "pii"])
def test_harmless_base64_in_pieces_costs_about_what_it_did(name: str, pieces: int) -> None:
    """64,000 characters of random base64 (an image's bytes) in 9 or 64 messages, read joined
    by secrets or pii (decoded), cost less than 2.5 times the lines they did before values were
    followed across texts, over the pieces read alone: a run going on across each cut is
    followed only where a value opens it (it had been read wider and wider until whole at every
    cut: 330 to 1,760 times the pieces' lines, 2 to 3 s of CPU, a 503). Not over one message of
    64,000: its scans are a few regular expressions, a few hundred lines."""
    from guard.classify.runner import in_context
    from tests.unit.classify.builtin_helpers import lines_counted
    config: dict[str, object] = {"type": name, "decoded": True}
    if name == "pii":
        config["entities"] = ["email", "phone", "card", "iban", "ssn", "ip"]
    classifier = build_classifier("t", config).classifier
    run = _random_base64(1)
    cuts = [len(run) * n // pieces for n in range(pieces + 1)]
    alone = [Segment(run[a:b], "user", n, Stage.PROMPT)
             for n, (a, b) in enumerate(itertools.pairwise(cuts))]
    joined = in_context([build_classifier("t", config)], alone, Stage.PROMPT, joined=True)
    classifier.classify_sync(alone)  # caches warmed
    ratio = lines_counted(lambda: classifier.classify_sync(joined)) / lines_counted(
        lambda: classifier.classify_sync(alone))
    assert ratio < 2.5 * RUN_COST_BEFORE[name, pieces]
