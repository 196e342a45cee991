from PIL import Image

from scenefit.images import centre_square


def test_centre_square_is_the_largest_middle_square():
    wide = Image.new("RGB", (10, 4))
    wide.putpixel((3, 0), (255, 0, 0))  # the square's top-left corner: columns 3..6
    sq = centre_square(wide)
    assert sq.size == (4, 4)
    assert sq.getpixel((0, 0)) == (255, 0, 0)
    tall = Image.new("RGB", (3, 8))
    tall.putpixel((2, 5), (0, 255, 0))  # rows 2..4 are kept: row 5 is not
    assert centre_square(tall).size == (3, 3)
    assert (0, 255, 0) not in [centre_square(tall).getpixel((x, y)) for x in range(3) for y in range(3)]
    assert centre_square(Image.new("RGB", (5, 5))).size == (5, 5)
