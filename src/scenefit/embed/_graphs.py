"""The part of EfficientNet-Lite0 the offline encoder runs, as torch functions of the
model: what the torch runtime calls and what the ONNX runtime exports.

What must stay true: the classifier reads the plain mean of the head's features (what it was
trained on, so ImageNet labels are the model's own), and every appearance statistic is a
per-cell quantity whose mean over any set of cells is what ``appearance_vectors`` reads, so
a product photo and a window of a room photo's feature map are pooled the same way.
"""

from __future__ import annotations

#: Channels of the head's and the last block's feature maps (EfficientNet-Lite0).
HEAD_CHANNELS, BLOCK_CHANNELS = 1280, 320
#: Generalised-mean exponent of the head's pooling in appearance vectors: the head is pooled
#: as (mean of x^p)^(1/p), which lets a strong local response (a small object) count for more
#: than a weak spread one. Changing it changes vectors: bump the model id and EXPORT_VERSION.
HEAD_POWER = 2


def feature_maps(model, x):
    """``EfficientNet.extract_features`` that also keeps the last block's output: the head's
    (n, 1280, h, w) and the last block's (n, 320, h, w) feature maps of a batch (torch).
    Drop-connect only acts in training, so the blocks need no rate here."""
    x = model._swish(model._bn0(model._conv_stem(x)))
    for block in model._blocks:
        x = block(x)
    return model._swish(model._bn1(model._conv_head(x))), x


def cell_statistics(head, block):
    """Per-cell statistics stacked on channels (n, 1600, h, w): the head's features to the
    power ``HEAD_POWER``, then the last block's as they are. Their mean over any set of cells
    is what ``appearance_vectors`` reads."""
    import torch

    return torch.cat([head**HEAD_POWER, block], dim=1)


def logits_and_pooled(model, x):
    """ImageNet logits and the (n, 1600) pooled statistics of a batch: what an image pass
    reads, from torch or from the ONNX graph exported from this."""
    head, block = feature_maps(model, x)
    logits = model._fc(head.mean(dim=(2, 3)))  # _fc on the plain mean, as forward() applies it
    return logits, cell_statistics(head, block).mean(dim=(2, 3))


def maps_and_head(model, x):
    """One pass over whole photos: the per-cell statistics (``cell_statistics``, what dense
    windows average) and the head's plain features (n, 1280, h, w), whose mean over any set
    of cells ``classifier`` reads as the ImageNet logits of that region, as ``forward()``
    reads a whole image. From torch or from the ONNX graph exported from this."""
    head, block = feature_maps(model, x)
    return cell_statistics(head, block), head


def classifier(model, pooled_head):
    """ImageNet logits of (n, 1280) mean head features (the network's own classifier)."""
    return model._fc(pooled_head)
