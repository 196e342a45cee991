"""Two processes ingesting into one index folder: both sets of products survive."""

import subprocess
import sys
import textwrap

from scenefit.index import VectorIndex

SCRIPT = textwrap.dedent('''
    import sys, time
    import numpy as np
    import scenefit.engine as engine_mod
    from scenefit import Engine, IngestConfig

    class Enc:
        model_id, dim, similarity_temperature = "fake:conc", 8, 0.05
        def encode_texts(self, texts):
            time.sleep(0.3)  # widen the read-modify-write window
            v = np.ones((len(texts), 8), np.float32)
            v[:, 0] = [len(t) for t in texts]
            return v / np.linalg.norm(v, axis=1, keepdims=True)
        def encode_images(self, images):
            raise AssertionError("no images here")

    engine_mod.build_encoder = lambda c: (Enc(), c.model_copy(update={"backend": "offline"}), "fake")
    index, catalog = sys.argv[1], sys.argv[2]
    Engine(index, ingest=IngestConfig(sync=False), log=lambda m: None).ingest(catalog)
''')


def test_concurrent_ingests_do_not_lose_products(tmp_path):
    script = tmp_path / "ingest.py"
    script.write_text(SCRIPT)
    catalogs = []
    for part in ("a", "b"):
        rows = "".join(f"{part}{i},s,{'VASE ' * (i + 1)}{part},\n" for i in range(20))
        path = tmp_path / f"{part}.csv"
        path.write_text("id,sku_id,description,primary_image\n" + rows)
        catalogs.append(path)
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "ix"), str(c)],
                              stderr=subprocess.PIPE, text=True) for c in catalogs]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    index = VectorIndex.open(tmp_path / "ix")
    assert len(index) == 40
    assert {i[0] for i in index.ids()} == {"a", "b"}
