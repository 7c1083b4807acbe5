"""The functions' settings: WEBHOOK_SOURCES validation and the schemes each source
builds, and every package's environment read as one typed model."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import FrozenInstanceError

import pytest

from functions import settings
from functions.actions.config import ActionSettings, CircuitSettings, QueueConfig
from functions.health.config import HealthSettings
from functions.sagas.config import SagaSettings
from functions.sagas.config import settings as saga_settings
from functions.settings import EnvSettings, SettingsError
from functions.webhooks.config import (
    GitHubSource,
    HmacSource,
    InvalidSources,
    ShopifySource,
    StandardSource,
    StripeSource,
    WebhookSettings,
    parse_sources,
)
from functions.webhooks.exceptions import InvalidSignature
from functions.webhooks.schemes import GenericHmac, GitHub, Shopify, StandardWebhooks, Stripe

EVERY_SCHEME = {
    "standard": {"scheme": "standard", "secret": "webhooks/standard"},
    "stripe": {"scheme": "stripe", "secret": "webhooks/stripe", "tolerance_seconds": 600},
    "github": {"scheme": "github", "secret": "arn:aws:secretsmanager:eu-west-1:1:secret:gh"},
    "shopify": {"scheme": "shopify", "secret": "webhooks/shopify"},
    "billing": {
        "scheme": "hmac",
        "secret": "webhooks/billing",
        "header": "X-Billing-Signature",
        "encoding": "base64",
        "prefix": "sha256=",
    },
}


def parse(doc: object) -> dict:
    return parse_sources(json.dumps(doc))


def one(config: dict) -> object:
    return parse({"src": config})["src"]


def test_valid_document_with_every_scheme() -> None:
    sources = parse(EVERY_SCHEME)
    assert list(sources) == list(EVERY_SCHEME)
    assert isinstance(sources["standard"], StandardSource)
    assert isinstance(sources["stripe"], StripeSource)
    assert isinstance(sources["github"], GitHubSource)
    assert isinstance(sources["shopify"], ShopifySource)
    assert isinstance(sources["billing"], HmacSource)
    assert sources["github"].secret == "arn:aws:secretsmanager:eu-west-1:1:secret:gh"
    assert sources["stripe"].tolerance_seconds == 600


def test_build_returns_the_configured_schemes() -> None:
    built = {name: source.build() for name, source in parse(EVERY_SCHEME).items()}
    assert built == {
        "standard": StandardWebhooks(tolerance_seconds=300),
        "stripe": Stripe(tolerance_seconds=600),
        "github": GitHub(),
        "shopify": Shopify(),
        "billing": GenericHmac(header="x-billing-signature", encoding="base64", prefix="sha256="),
    }
    assert type(built["billing"]) is GenericHmac
    assert built["billing"].header == "x-billing-signature"


def test_standard_tolerance_is_passed_to_the_scheme() -> None:
    scheme = one({"scheme": "standard", "secret": "s", "tolerance_seconds": 45}).build()
    assert scheme == StandardWebhooks(tolerance_seconds=45)


def test_hmac_defaults() -> None:
    scheme = one({"scheme": "hmac", "secret": "s"}).build()
    assert scheme == GenericHmac(header="x-signature", encoding="hex", prefix="")


def test_built_hmac_scheme_reads_the_lower_cased_header() -> None:
    scheme = one({"scheme": "hmac", "secret": "s", "header": "X-Custom-SIG"}).build()
    key, body = b"key", b'{"a": 1}'
    digest = hmac.new(key, body, hashlib.sha256).hexdigest()
    scheme.verify({"x-custom-sig": digest}, body, [key], now=0)
    with pytest.raises(InvalidSignature):
        scheme.verify({"x-signature": digest}, body, [key], now=0)


@pytest.mark.parametrize("raw", ["", "{}"])
def test_empty_document_has_no_sources(raw: str) -> None:
    assert parse_sources(raw) == {}


@pytest.mark.parametrize("name", ["a", "0", "github", "billing-v2", "my_source", "a" * 64])
def test_good_source_names(name: str) -> None:
    assert list(parse({name: {"scheme": "github", "secret": "s"}})) == [name]


@pytest.mark.parametrize(
    "name",
    ["GitHub", "UPPER", "my source", " github", "", "-github", "_github", "a" * 65, "a/b", "café"],
)
def test_bad_source_names_are_refused(name: str) -> None:
    doc = {"fine": {"scheme": "github", "secret": "s"}, name: {"scheme": "github", "secret": "s"}}
    with pytest.raises(InvalidSources, match="source names must match") as info:
        parse(doc)
    assert repr(name) in str(info.value)


@pytest.mark.parametrize(
    "config",
    [
        {"scheme": "svix", "secret": "s"},
        {"scheme": "GitHub", "secret": "s"},
        {"scheme": "", "secret": "s"},
        {"secret": "s"},
        {"scheme": None, "secret": "s"},
    ],
    ids=["unknown", "wrong-case", "empty", "missing", "null"],
)
def test_unknown_or_missing_scheme_is_refused(config: dict) -> None:
    with pytest.raises(InvalidSources, match=r"^src\.scheme: must be one of standard, stripe, "):
        one(config)


@pytest.mark.parametrize(
    "config",
    [
        {"scheme": "github", "secret": "s", "tolerance_seconds": 300},
        {"scheme": "shopify", "secret": "s", "header": "X-Signature"},
        {"scheme": "standard", "secret": "s", "encoding": "hex"},
        {"scheme": "stripe", "secret": "s", "prefix": "t="},
        {"scheme": "hmac", "secret": "s", "algorithm": "sha256"},
        {"scheme": "hmac", "secret": "s", "Header": "X-Signature"},
    ],
)
def test_extra_keys_are_refused(config: dict) -> None:
    [extra] = set(config) - {"scheme", "secret"}
    message = rf"^src\.{extra}: not an option of the {config['scheme']} scheme"
    with pytest.raises(InvalidSources, match=message):
        one(config)


@pytest.mark.parametrize(
    "config",
    [
        {"scheme": "github"},
        {"scheme": "github", "secret": ""},
        {"scheme": "github", "secret": None},
        {"scheme": "github", "secret": 42},
    ],
    ids=["missing", "empty", "null", "int"],
)
def test_a_secret_is_required(config: dict) -> None:
    with pytest.raises(InvalidSources, match=r"^src\.secret: "):
        one(config)


@pytest.mark.parametrize(
    "header",
    ["X Signature", "X_Signature", "", "X-Sig:", "x" * 65, "Signatür", "X-Signature\n"],
)
def test_bad_hmac_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidSources, match=r"^src\.header: must be a header name"):
        one({"scheme": "hmac", "secret": "s", "header": header})


@pytest.mark.parametrize("header", ["X-Signature", "x-sig", "A", "X" * 64, "X-Hub-Signature-256"])
def test_good_hmac_header_is_accepted(header: str) -> None:
    assert one({"scheme": "hmac", "secret": "s", "header": header}).build().header == header.lower()


@pytest.mark.parametrize("encoding", ["base32", "HEX", "Base64", "base64url", "", None])
def test_encoding_other_than_hex_or_base64_is_refused(encoding: object) -> None:
    with pytest.raises(InvalidSources, match=r'^src\.encoding: must be "hex" or "base64"'):
        one({"scheme": "hmac", "secret": "s", "encoding": encoding})


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_encoding_is_passed_to_the_scheme(encoding: str) -> None:
    assert one({"scheme": "hmac", "secret": "s", "encoding": encoding}).build().encoding == encoding


def test_prefix_longer_than_32_characters_is_refused() -> None:
    assert one({"scheme": "hmac", "secret": "s", "prefix": "p" * 32}).build().prefix == "p" * 32
    with pytest.raises(InvalidSources, match=r"^src\.prefix: must be a string of at most 32"):
        one({"scheme": "hmac", "secret": "s", "prefix": "p" * 33})


@pytest.mark.parametrize("scheme", ["standard", "stripe"])
@pytest.mark.parametrize(
    ("tolerance", "message"),
    [
        (0, "must be at least 1, not 0"),
        (-1, "must be at least 1, not -1"),
        ("0", "must be at least 1, not 0"),
        (3601, "must be at most 3600, not 3601"),
        (1.5, "must be a whole number of seconds, not 1.5"),
        ("soon", 'must be a whole number of seconds, not "soon"'),
        ("300.5", "must be a whole number of seconds"),
        (None, "must be a whole number of seconds, not null"),
        (True, "must be a whole number of seconds, not true"),
        ([300], "must be a whole number of seconds"),
        ("9" * 5000, "Exceeds the limit"),  # int() refuses that many digits
    ],
)
def test_bad_tolerance_is_refused(scheme: str, tolerance: object, message: str) -> None:
    with pytest.raises(InvalidSources, match=rf"^src\.tolerance_seconds: {re.escape(message)}"):
        one({"scheme": scheme, "secret": "s", "tolerance_seconds": tolerance})


@pytest.mark.parametrize("tolerance", [300, 300.0, "300", " 300 ", "300.0", "+300"])
def test_a_tolerance_may_be_spelled_as_json_spells_a_number(tolerance: object) -> None:
    assert one({"scheme": "stripe", "secret": "s", "tolerance_seconds": tolerance}).build() == (
        Stripe(tolerance_seconds=300)
    )
    assert parse_sources('{"s": {"scheme": "standard", "secret": "s", "tolerance_seconds": 3e2}}')[
        "s"
    ].build() == StandardWebhooks(tolerance_seconds=300)


@pytest.mark.parametrize(("scheme", "cls"), [("standard", StandardWebhooks), ("stripe", Stripe)])
@pytest.mark.parametrize("tolerance", [1, 3600])
def test_tolerance_bounds_are_accepted(scheme: str, cls: type, tolerance: int) -> None:
    built = one({"scheme": scheme, "secret": "s", "tolerance_seconds": tolerance}).build()
    assert built == cls(tolerance_seconds=tolerance)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[]", "the sources must be a JSON object from source name to its scheme and options"),
        ('"github"', "the sources must be a JSON object"),
        ("null", "the sources must be a JSON object"),
        (" ", "the sources are not JSON"),
        ("{", "the sources are not JSON"),
        (
            '{"github": "github"}',
            'github: must be an object of a scheme and its options, not "github"',
        ),
        ('{"github": []}', "github: must be an object of a scheme and its options, not []"),
    ],
)
def test_document_that_is_not_an_object_of_objects_is_refused(raw: str, message: str) -> None:
    with pytest.raises(InvalidSources, match=f"^{re.escape(message)}"):
        parse_sources(raw)


def test_every_problem_is_named_in_one_error() -> None:
    doc = {
        "github": {"scheme": "github", "secret": "s", "tolerance_seconds": 60},
        "fine": {"scheme": "shopify", "secret": "s"},
        "billing": {"scheme": "hmac", "secret": "", "encoding": "base32"},
    }
    with pytest.raises(InvalidSources) as info:
        parse(doc)
    assert str(info.value).split("; ") == [
        "github.tolerance_seconds: not an option of the github scheme "
        "(its options: secret, record, dedupe_signed_body)",
        'billing.secret: must be a secret\'s name or ARN (a non-empty string), not ""',
        'billing.encoding: must be "hex" or "base64", not "base32"',
    ]
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (lambda: HmacSource(secret="s", prefix="p" * 33), "prefix: must be a string of at most"),
        (lambda: StripeSource(secret="s", tolerance_seconds=0), "tolerance_seconds: must be at"),
        (lambda: GitHubSource(secret=""), "secret: must be a secret's name"),
        (lambda: GitHubSource(secret="s", record="yes"), "record: must be true or false"),
        (lambda: ShopifySource(secret="s", dedupe_signed_body=1), "dedupe_signed_body: must be"),
    ],
)
def test_a_source_built_by_field_name_is_checked_too(source: object, message: str) -> None:
    with pytest.raises(InvalidSources, match=f"^{re.escape(message)}"):
        source()


def test_a_sources_options_are_its_scheme_and_fields_but_the_secret() -> None:
    sources = parse(EVERY_SCHEME)
    assert sources["billing"].options() == {
        "scheme": "hmac",
        "record": True,
        "dedupe_signed_body": True,
        "header": "X-Billing-Signature",
        "encoding": "base64",
        "prefix": "sha256=",
    }
    assert sources["stripe"].options() == {
        "scheme": "stripe",
        "record": True,
        "tolerance_seconds": 600,
    }
    # Two body-signed schemes with the same options are not the same source.
    assert sources["github"].options() != sources["shopify"].options()


def test_sources_are_frozen() -> None:
    source = one({"scheme": "github", "secret": "s"})
    with pytest.raises(FrozenInstanceError):
        source.secret = "other"


# --- the functions' settings: one model per package, read once per process ---------------

QUEUE = {
    "url": "https://sqs.us-east-1.amazonaws.com/1/high",
    "arn": "arn:aws:sqs:us-east-1:1:high",
    "dead_letter_url": "https://sqs.us-east-1.amazonaws.com/1/high-dlq",
    "dead_letter_arn": "arn:aws:sqs:us-east-1:1:high-dlq",
}


@pytest.mark.parametrize("model", [ActionSettings, HealthSettings, WebhookSettings, SagaSettings])
def test_an_empty_environment_is_every_default(model: type[EnvSettings]) -> None:
    assert model.from_env({}) == model()


def test_variables_are_read_by_their_names_and_typed() -> None:
    config = ActionSettings.from_env(
        {
            "JOB_QUEUES": json.dumps({"high": QUEUE}),
            "ACTIONS_TABLE_NAME": "actions",
            "WORKER_TIMEOUT_SECONDS": "90",
            "CLAIM_MARGIN_SECONDS": "5",
            "CIRCUIT_FAILURE_THRESHOLD": "3",
            "CIRCUIT_TRIAL_SECONDS": "12.5",
        }
    )
    assert config.queues["high"] == QueueConfig(name="high", **QUEUE)
    assert config.actions_table == "actions"
    assert config.worker_timeout_seconds + config.claim_margin_seconds == 95
    assert config.circuit == CircuitSettings(threshold=3, window=60, cooldown=30, trial=12.5)


def test_an_empty_variable_is_the_default() -> None:
    config = ActionSettings.from_env({"SCHEDULE_GROUP": "", "WORKER_TIMEOUT_SECONDS": ""})
    assert (config.schedule_group, config.worker_timeout_seconds) == ("default", 60)


@pytest.mark.parametrize(
    ("model", "environ"),
    [
        (ActionSettings, {"WORKER_TIMEOUT_SECONDS": "soon"}),
        (ActionSettings, {"CIRCUIT_FAILURE_THRESHOLD": "0"}),
        (ActionSettings, {"JOB_QUEUES": '{"high": {"url": "u"}}'}),
        (HealthSettings, {"HEALTH_MAX_QUEUE_AGE_SECONDS": "[1]"}),
        (WebhookSettings, {"WEBHOOK_MAX_BODY_BYTES": "0"}),
    ],
)
def test_a_bad_value_fails_loudly(model: type[EnvSettings], environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(environ))):
        model.from_env(environ)


@pytest.mark.parametrize(("raw", "high", "low"), [("300", 300, 300), ('{"high": 120}', 120, 600)])
def test_the_health_checks_queue_age_is_a_number_or_one_per_queue(
    raw: str, high: int, low: int
) -> None:
    thresholds = HealthSettings.from_env({"HEALTH_MAX_QUEUE_AGE_SECONDS": raw}).thresholds
    assert (thresholds.queue_age_limit("high"), thresholds.queue_age_limit("low")) == (high, low)


def test_a_dead_letter_queue_without_a_url_is_left_out() -> None:
    raw = json.dumps({"scheduler": "https://sqs/dlq", "none": ""})
    config = HealthSettings.from_env({"HEALTH_DEAD_LETTER_QUEUES": raw})
    assert config.dead_letter_queues == {"scheduler": "https://sqs/dlq"}


def test_webhook_sources_are_validated_from_their_variable() -> None:
    def read(name: str) -> WebhookSettings:
        raw = json.dumps({name: {"scheme": "github", "secret": "s"}})
        return WebhookSettings.from_env({"WEBHOOK_SOURCES": raw})

    assert isinstance(read("github").sources["github"], GitHubSource)
    with pytest.raises(SettingsError, match=r"WEBHOOK_SOURCES: .*source names must match"):
        read("GitHub")
    bad = json.dumps({"github": {"scheme": "github", "secret": "s", "record": "yes"}})
    message = r"^WEBHOOK_SOURCES: .* is not valid: github\.record: must be true or false"
    with pytest.raises(SettingsError, match=message):
        WebhookSettings.from_env({"WEBHOOK_SOURCES": bad})


def test_settings_are_read_once_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGA_TABLE_NAME", "first")
    settings.reset()
    assert saga_settings().table_name == "first"
    monkeypatch.setenv("SAGA_TABLE_NAME", "second")
    assert saga_settings() is saga_settings()
    assert saga_settings().table_name == "first"  # a warm process keeps what it read
    settings.reset()
    assert saga_settings().table_name == "second"
    settings.reset()


def test_settings_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        SagaSettings(table_name="t").table_name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("scheme", ["github", "shopify", "hmac"])
def test_bodies_signed_alone_are_deduped_by_default_and_can_be_turned_off(scheme: str) -> None:
    on = parse_sources(json.dumps({"s": {"scheme": scheme, "secret": "x"}}))["s"]
    off = parse_sources(
        json.dumps({"s": {"scheme": scheme, "secret": "x", "dedupe_signed_body": False}})
    )["s"]

    assert (on.dedupes_body, off.dedupes_body) == (True, False)


@pytest.mark.parametrize("scheme", ["standard", "stripe"])
def test_schemes_that_sign_an_id_or_a_timestamp_never_dedupe_bodies(scheme: str) -> None:
    source = parse_sources(json.dumps({"s": {"scheme": scheme, "secret": "x"}}))["s"]

    assert source.dedupes_body is False
    message = rf"^s\.dedupe_signed_body: not an option of the {scheme} scheme"
    with pytest.raises(InvalidSources, match=message):
        parse_sources(
            json.dumps({"s": {"scheme": scheme, "secret": "x", "dedupe_signed_body": False}})
        )


@pytest.mark.parametrize("scheme", ["standard", "stripe", "github", "shopify", "hmac"])
def test_every_source_records_its_actions_unless_told_not_to(scheme: str) -> None:
    on = parse_sources(json.dumps({"s": {"scheme": scheme, "secret": "x"}}))["s"]
    off = parse_sources(json.dumps({"s": {"scheme": scheme, "secret": "x", "record": False}}))["s"]

    assert (on.record, off.record) == (True, False)


@pytest.mark.parametrize("value", ["false", 0, 1, None, "no", "yes", "true"])
def test_record_is_a_json_boolean(value: object) -> None:
    with pytest.raises(InvalidSources, match=r"^s\.record: must be true or false, not "):
        parse_sources(json.dumps({"s": {"scheme": "github", "secret": "x", "record": value}}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(True, True), (False, False), (1, True), (0, False), (0.0, False)],
        *[("yes", True), ("Off", False), ("TRUE", True), ("f", False), ("n", False), ("1", True)],
    ],
)
def test_dedupe_signed_body_takes_a_boolean_or_its_words(value: object, expected: bool) -> None:
    source = one({"scheme": "hmac", "secret": "s", "dedupe_signed_body": value})
    assert source.dedupes_body is expected


@pytest.mark.parametrize("value", ["maybe", " true", "", None, 2, 0.5, []])
def test_dedupe_signed_body_refuses_anything_else(value: object) -> None:
    message = r"^src\.dedupe_signed_body: must be true or false, not "
    with pytest.raises(InvalidSources, match=message):
        one({"scheme": "github", "secret": "s", "dedupe_signed_body": value})


def test_a_bound_holds_when_a_model_is_built_by_field_name() -> None:
    with pytest.raises(SettingsError, match="CIRCUIT_FAILURE_THRESHOLD must be at least 1"):
        CircuitSettings(threshold=0)


@pytest.mark.parametrize(
    ("text", "expected"), [("1", True), ("true", True), ("On", True), ("0", False), ("no", False)]
)
def test_booleans_read_as_the_words_operators_write(text: str, expected: bool) -> None:
    from functions.hooks.config import HookSettings

    assert HookSettings.from_env({"EXTERNAL_API_FAIL": text}).external_api_fail is expected
    with pytest.raises(SettingsError, match="EXTERNAL_API_FAIL"):
        HookSettings.from_env({"EXTERNAL_API_FAIL": "maybe"})


def test_a_malformed_json_setting_names_its_variable() -> None:
    with pytest.raises(SettingsError, match="HEALTH_DEAD_LETTER_QUEUES"):
        HealthSettings.from_env({"HEALTH_DEAD_LETTER_QUEUES": "{not json"})
