from __future__ import annotations

import pytest

from scenefit import ConfigError
from scenefit._settings import Settings


def test_defaults_without_environment():
    s = Settings.from_env({})
    assert s.database_url is None and s.redis_url is None and s.api_key is None
    assert s.max_upload_mb == 15 and s.max_upload_bytes == 15 * 1024 * 1024


def test_values_from_environment():
    s = Settings.from_env({"SCENEFIT_API_KEY": "secret", "SCENEFIT_MAX_UPLOAD_MB": "2.5",
                           "SCENEFIT_URL_ALLOW_NETWORKS": "10.0.0.0/8, 192.168.1.5/32",
                           "SCENEFIT_DATABASE_URL": "postgresql://x@h/db", "SCENEFIT_REDIS_URL": " "})
    assert s.api_key.get_secret_value() == "secret" and "secret" not in repr(s)
    assert s.max_upload_bytes == int(2.5 * 1024 * 1024)
    assert s.url_allow_networks == ("10.0.0.0/8", "192.168.1.5/32")
    assert s.database_url == "postgresql://x@h/db" and s.redis_url is None  # blank means unset


@pytest.mark.parametrize("env, needle", [
    ({"SCENEFIT_MAX_UPLOAD_MB": "lots"}, "SCENEFIT_MAX_UPLOAD_MB"),
    ({"SCENEFIT_MAX_UPLOAD_MB": "-1"}, "greater than 0"),
    ({"SCENEFIT_URL_TIMEOUT_S": "0"}, "SCENEFIT_URL_TIMEOUT_S"),
])
def test_bad_values_name_the_variable(env, needle):
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(env)


def test_match_queue_is_bounded():
    assert Settings.from_env({}).match_queue == 8
    assert Settings.from_env({"SCENEFIT_MATCH_QUEUE": "0"}).match_queue == 0  # no waiting at all
    with pytest.raises(ConfigError, match="SCENEFIT_MATCH_QUEUE"):
        Settings.from_env({"SCENEFIT_MATCH_QUEUE": "-1"})


def test_a_bad_network_names_the_variable():
    with pytest.raises(ConfigError, match="SCENEFIT_URL_ALLOW_NETWORKS: .*'10.0.0.300/8' is not a network"):
        Settings.from_env({"SCENEFIT_URL_ALLOW_NETWORKS": "10.0.0.0/8,10.0.0.300/8"})


def test_the_process_environment_is_read_by_from_env_only(monkeypatch):
    monkeypatch.setenv("SCENEFIT_MATCH_QUEUE", "3")
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", "/elsewhere")  # another component's variable: ignored here
    assert Settings.from_env().match_queue == 3
    assert Settings().match_queue == 8  # built in code: the values given and the defaults, nothing else
    assert Settings(match_queue=5).match_queue == 5
    assert Settings.from_env({}).match_queue == 8  # an explicit mapping replaces the environment


def test_values_given_in_code_are_validated_too():
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(max_upload_mb=0)
    assert Settings(url_allow_networks="10.0.0.0/8, 10.1.0.0/16").url_allow_networks == ("10.0.0.0/8", "10.1.0.0/16")


def test_threads_are_unset_by_default_and_at_least_one():
    assert Settings.from_env({}).threads is None
    assert Settings.from_env({"SCENEFIT_THREADS": "3"}).threads == 3
    with pytest.raises(ConfigError, match="SCENEFIT_THREADS"):
        Settings.from_env({"SCENEFIT_THREADS": "0"})
