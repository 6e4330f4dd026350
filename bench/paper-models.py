#!/usr/bin/python3
"""The IRS paper's network shapes as ONNX, with random weights (cost does not depend on them).

    /usr/bin/python3 bench/paper-models.py [--out irs-data/paper] [--count 8] [--calibration 32]

Needs Debian's python3-torch, python3-torchvision and python3-onnx (the system interpreter, not
a pyenv one). Writes, under --out (gitignored):
  resnet20.onnx, resnet110.onnx   CIFAR-style ResNets (Cohen et al.'s archs/cifar_resnet.py:
                                   BasicBlocks 16/32/64, 1x1 conv + BN shortcuts, AvgPool2d(8),
                                   Linear 64->10), 3x32x32, with Cohen's NormalizeLayer in front;
  resnet50.onnx                    torchvision ResNet-50, 3x224x224, NormalizeLayer in front;
  *-bn.onnx (resnet20 only)        the same graph exported with BatchNorm kept as its own node
                                   (torch folds BN into Conv on a plain eval export);
  cifar-inputs.npy / cifar-labels.npy, imagenet-inputs.npy / imagenet-labels.npy
                                   --count uniform [0, 1) inputs and random labels;
  cifar-calib.npy, imagenet-calib.npy  --calibration inputs for `irs compress --method int8`.
Batch is a dynamic axis; opset 13.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torchvision

p = argparse.ArgumentParser()
p.add_argument('--out', default='irs-data/paper')
p.add_argument('--count', type=int, default=8)
p.add_argument('--calibration', type=int, default=32)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--only', default='resnet20,resnet110,resnet50')
args = p.parse_args()
os.makedirs(args.out, exist_ok=True)
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)


class NormalizeLayer(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        return self.relu(out + residual)


class CifarResNet(nn.Module):
    def __init__(self, depth, num_classes=10):
        super().__init__()
        assert (depth - 2) % 6 == 0
        n = (depth - 2) // 6
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, n)
        self.layer2 = self._make_layer(32, n, stride=2)
        self.layer3 = self._make_layer(64, n, stride=2)
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(64, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x)
        return self.fc(x.view(x.size(0), -1))


def randomize_bn(model):
    # Non-trivial running statistics, so BN is not the identity a fresh model has.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)


def export(model, shape, path, keep_bn=False):
    model.eval()
    x = torch.rand(2, *shape)
    kw = dict(input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    if keep_bn:
        kw.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    torch.onnx.export(model, x, path, **kw)
    print(f'{path}: {os.path.getsize(path):,} bytes')


CIFAR = ([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010])
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
only = set(args.only.split(','))
nets = {}
for depth in (20, 110):
    if f'resnet{depth}' not in only:
        continue
    net = CifarResNet(depth)
    randomize_bn(net)
    model = nn.Sequential(NormalizeLayer(*CIFAR), net).eval()
    nets[f'resnet{depth}'] = model
    export(model, (3, 32, 32), f'{args.out}/resnet{depth}.onnx')
    if depth == 20:
        export(model, (3, 32, 32), f'{args.out}/resnet{depth}-bn.onnx', keep_bn=True)
if 'resnet50' in only:
    net = torchvision.models.resnet50()
    randomize_bn(net)
    nets['resnet50'] = nn.Sequential(NormalizeLayer(*IMAGENET), net).eval()
    export(nets['resnet50'], (3, 224, 224), f'{args.out}/resnet50.onnx')

# Labels: the clean prediction of ResNet-20 (CIFAR) or ResNet-50 (ImageNet), so that "correct"
# and certified accuracy are not all zero with random weights (they mean nothing else here).
for name, shape, labeller in (('cifar', (3, 32, 32), 'resnet20'), ('imagenet', (3, 224, 224), 'resnet50')):
    x = rng.random((args.count, *shape), dtype=np.float32)
    np.save(f'{args.out}/{name}-inputs.npy', x)
    np.save(f'{args.out}/{name}-calib.npy', rng.random((args.calibration, *shape), dtype=np.float32))
    if labeller in nets:
        with torch.no_grad():
            np.save(f'{args.out}/{name}-labels.npy', nets[labeller](torch.from_numpy(x)).argmax(1).numpy().astype(np.int64))
