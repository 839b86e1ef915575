"""Self-checks for the exercises of notebooks/01_max_pooling.ipynb.

Each ``check_*`` prints one line (✓/✗ and why, in the reader's language) and returns True, False,
or None while the answer is still the placeholder. Expected answers are computed by PyTorch when
the check runs, never typed in here.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from utils.checks import as_cells, report, unanswered

#: Exercise 1: a 4×4 feature map; ``shifted(SHIFT_GRID)`` moves it one pixel to the right.
SHIFT_GRID = [[0, 0, 0, 0],
              [0, 0, 5, 0],
              [0, 3, 0, 0],
              [0, 0, 0, 0]]

#: Exercise 2: a layer must turn both of these sizes into 14×14.
SAME_SIZE_INPUTS = (27, 28)
SAME_SIZE_TARGET = 14

#: Exercise 3: the input shape fed to ``exercise_network()``.
NETWORK_INPUT = (4, 3, 64, 64)

#: Exercise 4: the original lesson's CIFAR-10 test set and batch size.
CIFAR_TEST_IMAGES, CIFAR_BATCH = 10_000, 64


def shifted(grid) -> torch.Tensor:
    """``grid`` (H×W) as a 1×1×H×W float tensor moved one pixel right: a 0 enters on the left."""
    x = torch.as_tensor(grid, dtype=torch.float32)
    return torch.cat([torch.zeros(x.shape[0], 1), x[:, :-1]], dim=1)[None, None]


def changed_outputs(pool: nn.Module, grid=SHIFT_GRID) -> set[tuple[int, int]]:
    """Output cells (row, column) of ``pool`` that differ between ``grid`` and ``shifted(grid)``."""
    x = torch.as_tensor(grid, dtype=torch.float32)[None, None]
    diff = pool(x)[0, 0] != pool(shifted(grid))[0, 0]
    return {tuple(rc) for rc in diff.nonzero().tolist()}


def check_shift(changed_stride2, changed_stride1) -> bool | None:
    """Exercise 1: which outputs of MaxPool2d(2) and of MaxPool2d(2, stride=1) change after the shift?"""
    if unanswered(changed_stride2) or unanswered(changed_stride1):
        return report(None)
    mine2, mine1 = as_cells(changed_stride2), as_cells(changed_stride1)
    if mine2 is None or mine1 is None:
        return report(False, en="Give each answer as a set of (row, column) pairs, e.g. {(0, 1)}.",
                      zh="每个答案写成 (行, 列) 的集合，例如 {(0, 1)}。")
    right2 = changed_outputs(nn.MaxPool2d(2))
    right1 = changed_outputs(nn.MaxPool2d(2, stride=1))
    if mine2 == right2 and mine1 == right1:
        return report(True, en=f"Stride 2: {len(right2)} of 4 outputs change; stride 1: {len(right1)} of 9. "
                      "The 5 moved inside its stride-2 window, so that window did not notice; overlapping "
                      "windows have an edge between every two columns, so the output moves with the input.",
                      zh=f"步幅 2：4 个输出中变了 {len(right2)} 个；步幅 1：9 个中变了 {len(right1)} 个。"
                      "5 只在自己的步幅 2 窗口内移动，这个窗口察觉不到；窗口重叠时，每两列之间都是某个窗口的边界，"
                      "输出会跟着输入一起移动。")
    if mine2 != right2:
        return report(False, en="MaxPool2d(2) is off. Its window (i, j) covers rows 2i–2i+1 and columns "
                      "2j–2j+1: is each window's largest value the same before and after the shift?",
                      zh="MaxPool2d(2) 那一问再想想：它的窗口 (i, j) 覆盖第 2i–2i+1 行、第 2j–2j+1 列："
                      "平移前后，每个窗口的最大值还一样吗？")
    if mine1 == right2:
        return report(False, en="MaxPool2d(2, stride=1) has 3×3 outputs, not 2×2: window (i, j) covers rows "
                      "i–i+1 and columns j–j+1. Check each of the 9 windows before and after.",
                      zh="MaxPool2d(2, stride=1) 的输出是 3×3，不是 2×2：窗口 (i, j) 覆盖第 i–i+1 行、"
                      "第 j–j+1 列。逐个检查这 9 个窗口平移前后的最大值。")
    return report(False, en="MaxPool2d(2, stride=1) is off. Its window (i, j) covers rows i–i+1 and columns "
                  "j–j+1, so the windows overlap: write down all 9 maxima before and after the shift.",
                  zh="MaxPool2d(2, stride=1) 那一问再想想：它的窗口 (i, j) 覆盖第 i–i+1 行、第 j–j+1 列，"
                  "窗口彼此重叠：把平移前后 9 个窗口的最大值都写出来比一比。")


def check_same_size_layer(layer) -> bool | None:
    """Exercise 2: ``layer`` turns 1×1×27×27 and 1×1×28×28 inputs into 14×14 outputs."""
    if unanswered(layer):
        return report(None)
    if not isinstance(layer, nn.Module):
        return report(False, en="Give a layer, e.g. nn.MaxPool2d(...).", zh="请给出一个层，例如 nn.MaxPool2d(...)。")
    try:
        sizes = {n: tuple(layer(torch.zeros(1, 1, n, n)).shape[-2:]) for n in SAME_SIZE_INPUTS}
    except RuntimeError as err:
        return report(False, en=f"PyTorch refuses this layer: {err}", zh=f"PyTorch 拒绝了这个层：{err}")
    wanted = (SAME_SIZE_TARGET, SAME_SIZE_TARGET)
    if all(size == wanted for size in sizes.values()):
        return report(True, en=f"27 → {sizes[27]}, 28 → {sizes[28]}.", zh=f"27 → {sizes[27]}，28 → {sizes[28]}。")
    got = ", ".join(f"{n}×{n} → {h}×{w}" for n, (h, w) in sizes.items())
    if sizes[28] == wanted:
        return report(False, en=f"{got}. The 27th row has no partner in floor mode: (27 − 2) // 2 + 1 = 13. "
                      "Round up instead, nn.MaxPool2d(2, ceil_mode=True), and it gets a window (§2's "
                      "counting rule). Padding 1 would not do: 28 + 2 gives 15 windows of 2.",
                      zh=f"{got}。向下取整时，第 27 行凑不成一个窗口：(27 − 2) // 2 + 1 = 13。改为向上取整，"
                      "即 nn.MaxPool2d(2, ceil_mode=True)，它就有了一个窗口（见第 2 节数窗口的规则）。加填充 1 不行：28 + 2 会得到 15 个宽为 2 的窗口。")
    return report(False, en=f"{got}. First make 28 → 14: a window that moves 2 pixels at a time.",
                  zh=f"{got}。先做到 28 → 14：用一个每次移动 2 个像素的窗口。")


def exercise_network() -> nn.Sequential:
    """Exercise 3's network: the original lesson's MaxPool2d(3) after two convolutions."""
    return nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(3),
        nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(3),
    )


def check_network_shape(answer) -> bool | None:
    """Exercise 3: the output shape of ``exercise_network()`` on ``NETWORK_INPUT``."""
    if unanswered(answer):
        return report(None)
    expected = tuple(exercise_network()(torch.zeros(NETWORK_INPUT)).shape)
    try:
        mine = tuple(int(v) for v in answer)
    except (TypeError, ValueError):
        mine = None
    if mine == expected:
        return report(True, en=f"{expected}: padding=1 keeps the size, each MaxPool2d(3) divides it "
                      "by 3 and drops the rest.", zh=f"{expected}：padding=1 保持尺寸，每个 MaxPool2d(3) "
                      "把尺寸除以 3 并舍去余数。")
    if mine is None or len(mine) != 4:
        return report(False, en="Give 4 numbers (N, C, H, W).", zh="请给出 4 个数 (N, C, H, W)。")
    if mine[:2] != expected[:2]:
        return report(False, en="N and C: pooling keeps both; the last Conv2d sets the channels.",
                      zh="N 和 C：池化不改变它们；通道数由最后一个 Conv2d 决定。")
    return report(False, en="H and W: follow 64 through each layer; MaxPool2d(3) has ceil_mode=False, "
                  "so a leftover that does not fill a window is dropped.",
                  zh="H 和 W：从 64 出发逐层推算；MaxPool2d(3) 默认 ceil_mode=False，凑不满一个窗口的余数会被舍去。")


def check_cifar_steps(steps, last_step, last_batch) -> bool | None:
    """Exercise 4: the original lesson's loop over CIFAR-10's test set with batch_size=64."""
    if unanswered(steps) or unanswered(last_step) or unanswered(last_batch):
        return report(None)
    sizes = [len(batch) for batch in DataLoader(range(CIFAR_TEST_IMAGES), batch_size=CIFAR_BATCH)]
    expected = (len(sizes), len(sizes) - 1, sizes[-1])
    if (steps, last_step, last_batch) == expected:
        return report(True, en=f"{expected[0]} batches, steps 0–{expected[1]}, the last holds "
                      f"{expected[2]} images.", zh=f"共 {expected[0]} 个批量，步为 0–{expected[1]}，最后一个批量有 "
                      f"{expected[2]} 张图片。")
    if steps == CIFAR_TEST_IMAGES // CIFAR_BATCH:
        return report(False, en="The DataLoader keeps the smaller last batch (drop_last=False).",
                      zh="DataLoader 会保留最后那个较小的批量（drop_last=False）。")
    if last_step == steps:
        return report(False, en="The step starts at 0.", zh="步从 0 开始。")
    return report(False, en="Count full batches of 64, then what is left over.",
                  zh="先数有几个满 64 张的批量，再看剩下多少张。")
