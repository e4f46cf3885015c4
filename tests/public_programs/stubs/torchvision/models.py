"""A small vgg16 stand-in: VGG's layout (features, avgpool, classifier) at a few channels."""


def vgg16(pretrained=False, weights=None, num_classes=1000):
    if "VGG" in globals():
        return globals()["VGG"]()
    import torch
    from torch import nn

    class VGG(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(True),
                                          nn.MaxPool2d(2, 2), nn.Conv2d(4, 8, 3, padding=1),
                                          nn.ReLU(True), nn.MaxPool2d(2, 2))
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(nn.Linear(8 * 7 * 7, 16), nn.ReLU(True),
                                            nn.Dropout(), nn.Linear(16, num_classes))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    VGG.__module__, VGG.__qualname__ = __name__, "VGG"  # pickled by reference, as torchvision's
    globals()["VGG"] = VGG
    return VGG()
