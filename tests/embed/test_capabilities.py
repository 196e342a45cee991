"""EncoderCapabilities: the optional capabilities an encoder declares, read once."""

import numpy as np
import pytest
from PIL import Image

from scenefit.embed import (AppearanceEncoder, DenseAppearanceEncoder, Encoder, EncoderCapabilities,
                            appearance_of)


class Plain:
    """The Encoder protocol and nothing more."""

    dim, model_id, similarity_temperature = 2, "plain", 0.05

    def __init__(self):
        self.passes = []

    def _v(self, images, d):
        return np.array([[im.size[0]] * d for im in images], np.float32)

    def encode_images(self, images):
        self.passes.append(("images", len(images)))
        return self._v(images, self.dim)

    def encode_texts(self, texts):
        return np.ones((len(texts), self.dim), np.float32) / np.sqrt(self.dim)


class Looks(Plain):
    """An appearance space, encoded separately from the shared one."""

    appearance_dim, model_id = 3, "looks"

    def encode_appearance(self, images):
        self.passes.append(("appearance", len(images)))
        return self._v(images, self.appearance_dim)


class Dense(Looks):
    """Both kinds from one pass, and a dense feature map."""

    model_id, scene_model_id = "dense", "dense:scenes"

    def encode_images_and_appearance(self, images, *, scene=False):
        self.passes.append(("both, scene" if scene else "both", len(images)))
        return self._v(images, self.dim), self._v(images, self.appearance_dim)

    def scene_feature_map(self, image, short_side):
        return np.ones((self.appearance_dim, 2, 2), np.float32)

    def scene_pass(self, image, short_side, boxes):
        raise AssertionError("not called here")

    def appearance_vectors(self, means):
        return means


class NoSpace(Dense):
    appearance_dim = 0  # declares the methods but no space


IMAGES = [Image.new("RGB", (w, 4)) for w in (10, 20, 30, 40)]


def test_each_encoder_is_read_as_what_it_declares():
    plain, looks, dense, none = Plain(), Looks(), Dense(), NoSpace()
    assert all(isinstance(e, Encoder) for e in (plain, looks, dense, none))
    caps = {type(e).__name__: EncoderCapabilities.of(e) for e in (plain, looks, dense, none)}
    assert caps["Plain"].appearance is None and caps["Plain"].dense is None
    assert caps["Looks"].appearance is looks and caps["Looks"].dense is None
    assert isinstance(caps["Looks"].appearance, AppearanceEncoder)
    assert caps["Dense"].appearance is dense and caps["Dense"].dense is dense
    assert isinstance(caps["Dense"].dense, DenseAppearanceEncoder)
    assert caps["NoSpace"].appearance is None and caps["NoSpace"].dense is None  # dim 0: none
    assert [c.appearance_dim for c in caps.values()] == [0, 3, 3, 0]
    assert appearance_of(plain) is None and appearance_of(dense) is dense and appearance_of(none) is None


def test_scene_model_id_is_the_model_id_unless_the_encoder_names_its_own():
    assert EncoderCapabilities.of(Plain()).scene_model_id == "plain"
    assert EncoderCapabilities.of(Looks()).scene_model_id == "looks"
    assert EncoderCapabilities.of(Dense()).scene_model_id == "dense:scenes"


def test_capabilities_are_read_once_not_on_every_call():
    enc = Dense()
    caps = EncoderCapabilities.of(enc)
    enc.encode_images_and_appearance = None  # a later change to the object is not probed again
    with pytest.raises(TypeError):
        caps.encode_with_appearance(IMAGES, vectors=[1, 0, 0, 0], appearance=[1, 0, 0, 0])


def test_one_pass_over_the_union_for_a_dense_encoder():
    enc = Dense()
    vecs, looks = EncoderCapabilities.of(enc).encode_with_appearance(
        IMAGES, vectors=[1, 1, 0, 0], appearance=[1, 0, 1, 0])
    assert enc.passes == [("both", 3)]  # images 0, 1, 2; image 3 needs nothing
    assert sorted(vecs) == [0, 1] and sorted(looks) == [0, 2]
    assert vecs[1][0] == 20 and looks[2].shape == (3,) and looks[2][0] == 30


def test_scene_views_are_passed_as_such():
    enc = Dense()
    EncoderCapabilities.of(enc).encode_with_appearance(IMAGES, vectors=[1] * 4, appearance=[1] * 4, scene=True)
    assert enc.passes == [("both, scene", 4)]


def test_only_vectors_needed_uses_the_plain_image_pass():
    enc = Dense()
    vecs, looks = EncoderCapabilities.of(enc).encode_with_appearance(IMAGES, vectors=[1] * 4, appearance=[0] * 4)
    assert enc.passes == [("images", 4)] and looks == {} and sorted(vecs) == [0, 1, 2, 3]


def test_separate_calls_for_an_appearance_encoder():
    enc = Looks()
    vecs, looks = EncoderCapabilities.of(enc).encode_with_appearance(
        IMAGES, vectors=[1, 0, 0, 1], appearance=[0, 1, 0, 0])
    assert enc.passes == [("images", 2), ("appearance", 1)] and sorted(looks) == [1]


@pytest.mark.parametrize("cls", [Plain, NoSpace], ids=["plain", "dim-0"])
def test_an_encoder_without_appearance_is_handled_as_such(cls):
    enc = cls()
    vecs, looks = EncoderCapabilities.of(enc).encode_with_appearance(IMAGES, vectors=[1] * 4, appearance=[1] * 4)
    assert enc.passes == [("images", 4)] and looks == {} and sorted(vecs) == [0, 1, 2, 3]
