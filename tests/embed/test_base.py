import numpy as np
from PIL import Image

from scenefit.embed import encode_with_appearance


class TwoSpaces:
    """Counts model passes: a backend that makes both kinds of vector in one pass."""

    dim, appearance_dim, model_id = 2, 3, "two"

    def __init__(self):
        self.passes = []

    def _v(self, images, d):
        return np.array([[im.size[0]] * d for im in images], np.float32)

    def encode_images(self, images):
        self.passes.append(("images", len(images)))
        return self._v(images, self.dim)

    def encode_appearance(self, images):
        self.passes.append(("appearance", len(images)))
        return self._v(images, self.appearance_dim)

    def encode_images_and_appearance(self, images):
        self.passes.append(("both", len(images)))
        return self._v(images, self.dim), self._v(images, self.appearance_dim)


class Separate(TwoSpaces):
    encode_images_and_appearance = None


IMAGES = [Image.new("RGB", (w, 4)) for w in (10, 20, 30, 40)]


def test_one_pass_over_the_union_when_the_backend_allows():
    enc = TwoSpaces()
    vecs, looks = encode_with_appearance(enc, IMAGES, vectors=[1, 1, 0, 0], appearance=[1, 0, 1, 0])
    assert enc.passes == [("both", 3)]  # images 0, 1, 2; image 3 needs nothing
    assert sorted(vecs) == [0, 1] and sorted(looks) == [0, 2]
    assert vecs[1][0] == 20 and looks[2].shape == (3,) and looks[2][0] == 30


def test_separate_calls_otherwise_and_no_appearance_without_the_space():
    enc = Separate()
    vecs, looks = encode_with_appearance(enc, IMAGES, vectors=[1, 0, 0, 1], appearance=[0, 1, 0, 0])
    assert enc.passes == [("images", 2), ("appearance", 1)] and sorted(looks) == [1]

    class NoSpace(Separate):
        appearance_dim = 0

    enc = NoSpace()
    vecs, looks = encode_with_appearance(enc, IMAGES, vectors=[1, 1, 1, 1], appearance=[1, 1, 1, 1])
    assert enc.passes == [("images", 4)] and looks == {}
