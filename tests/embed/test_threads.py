"""Each process's share of the cores, and the ONNX sessions that follow it."""

import pytest

from scenefit.embed import _threads, inference_threads, set_inference_threads, threads_per_worker


@pytest.fixture(autouse=True)
def _restore_threads():
    yield
    set_inference_threads(None)


def _tiny_graph(path):
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "tiny", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_workers_split_the_cores_and_never_get_none(monkeypatch):
    monkeypatch.setattr(_threads, "available_cores", lambda: 8)
    assert [threads_per_worker(w) for w in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]


def test_unset_threads_means_every_core(monkeypatch):
    monkeypatch.setattr(_threads, "available_cores", lambda: 4)
    assert inference_threads() == 4
    set_inference_threads(2)
    assert inference_threads() == 2
    with pytest.raises(ValueError, match="at least 1"):
        set_inference_threads(0)


def test_an_onnx_session_opens_with_the_process_share_and_does_not_spin(tmp_path, monkeypatch):
    from scenefit.embed._onnx import session

    monkeypatch.setattr(_threads, "available_cores", lambda: 4)
    path = _tiny_graph(tmp_path / "tiny.onnx")
    alone = session(path).get_session_options()
    assert alone.intra_op_num_threads == 4
    assert alone.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    set_inference_threads(1)
    assert session(path).get_session_options().intra_op_num_threads == 1


def test_a_session_for_photos_of_any_size_plans_no_memory_pattern(tmp_path):
    from scenefit.embed._onnx import session

    path = _tiny_graph(tmp_path / "tiny.onnx")
    assert session(path).get_session_options().enable_mem_pattern
    assert not session(path, any_shape=True).get_session_options().enable_mem_pattern


def test_the_share_also_bounds_numpy_blas(monkeypatch):
    from threadpoolctl import threadpool_info

    monkeypatch.setattr(_threads, "available_cores", lambda: 3)

    def blas_threads():
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    set_inference_threads(1)
    assert blas_threads() == {1}
    set_inference_threads(None)  # back to every core
    assert blas_threads() == {3}


def test_only_the_scene_maps_graph_takes_photos_of_any_shape(monkeypatch):
    from scenefit.embed import _onnx

    opened = {}
    monkeypatch.setattr(_onnx, "Graph", lambda path, export, **kw: opened.setdefault(path.name, kw))
    networks = _onnx.OnnxNetworks()
    networks.scene_maps_net, networks.classifier_net  # noqa: B018 - opening them is the point
    maps, = (kw for name, kw in opened.items() if "maps" in name)
    fc, = (kw for name, kw in opened.items() if "-fc" in name)
    assert maps == {"any_shape": True} and not fc.get("any_shape")
