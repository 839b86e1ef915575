"""Self-checks for the exercises of notebooks/04_dropout.ipynb and 05_dropout_overfitting.ipynb.

Every expected answer is computed by PyTorch when the check runs. Each check prints one line (✓/✗ and
why) in the reader's language and returns True, False, or None when the answer is still ``None``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from utils.checks import report, unanswered


# -- lesson 04 -----------------------------------------------------------------------------------
def check_keep_prob(layer, largest) -> bool | None:
    """Exercise 04.1: ``tf.nn.dropout(h, keep_prob=0.9)`` → ``nn.Dropout(p=0.1)``; largest value 1/0.9."""
    if unanswered(layer) or unanswered(largest):
        return report(None)
    if not isinstance(layer, nn.Dropout):
        return report(False, en=f"layer should be an nn.Dropout, got {type(layer).__name__}.",
                      zh=f"layer 应该是 nn.Dropout，而不是 {type(layer).__name__}。")
    ones = torch.ones(100_000)
    actual = layer.train()(ones).max().item()
    if not math.isclose(layer.p, 0.1, abs_tol=1e-9):
        return report(False, en=f"p={layer.p:g} is the keep probability's partner? PyTorch's p is the "
                      "probability to DROP: p = 1 - keep_prob.",
                      zh=f"p={layer.p:g} 不对：PyTorch 的 p 是丢弃概率，p = 1 - keep_prob。")
    if not math.isclose(float(largest), actual, rel_tol=1e-6):
        return report(False, en=f"The layer is right, but its largest output on ones is {actual:.6g}, "
                      "not your number: kept values are divided by 1 - p.",
                      zh=f"层写对了，但输入全为 1 时它的最大输出是 {actual:.6g}，不是你填的数：保留的值要除以 1 - p。")
    return report(True, en="keep_prob 0.9 is p = 0.1; kept ones become 1/0.9.",
                  zh="keep_prob 0.9 就是 p = 0.1；保留下来的 1 变成 1/0.9。")


def check_dropout2d_prediction(zero_fraction, black_images, *, draws: int = 4000) -> bool | None:
    """Exercise 04.2: 16 gray images 1×8×8 through ``nn.Dropout2d(p=0.25)`` (training mode).

    Measured over ``draws`` batches: the mean fraction of zero pixels and of all-black images.
    """
    if unanswered(zero_fraction) or unanswered(black_images):
        return report(None)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        out = nn.Dropout2d(p=0.25)(torch.ones(draws, 16, 1, 8, 8).flatten(0, 1)).view(draws, 16, 64)
    zero = (out == 0).double().mean().item()
    black = (out == 0).all(dim=2).double().sum(dim=1).mean().item()
    ok_zero = abs(float(zero_fraction) - zero) < 0.02
    ok_black = abs(float(black_images) - black) < 0.25
    if not ok_zero:
        return report(False, en=f"PyTorch zeroes about {zero:.3f} of the pixels (measured).",
                      zh=f"实测 PyTorch 会把约 {zero:.1%} 的像素置零。")
    if not ok_black:
        return report(False, en=f"About {black:.2f} of the 16 images come out all black: with one "
                      "channel, dropping a channel drops the whole image.",
                      zh=f"16 张图里平均约 {black:.2f} 张全黑：只有一个通道时，丢掉通道就是丢掉整张图。")
    return report(True, en=f"measured {zero:.3f} of pixels and {black:.2f} whole images: Dropout2d on "
                  "N×1×H×W blanks whole images.",
                  zh=f"实测约 {zero:.1%} 的像素为 0，平均 {black:.2f} 张图整张变黑：在 N×1×H×W 上，Dropout2d 丢弃的是整张图。")


def check_my_dropout(fn) -> bool | None:
    """Exercise 04.3: ``fn(x, p, training=True)`` behaves like ``F.dropout`` at p = 0, 0.3, 1 and in eval."""
    if unanswered(fn):
        return report(None)
    x = torch.rand(200_000) + 0.5
    problems = []
    if not torch.equal(fn(x, 0.3, training=False), x):
        problems.append(("with training=False it must return x unchanged",
                         "training=False 时必须原样返回 x"))
    if not torch.equal(fn(x, 0.0), x):
        problems.append(("at p=0 it must return x unchanged", "p=0 时必须原样返回 x"))
    at_one = fn(x, 1.0)
    if not (torch.isfinite(at_one).all() and (at_one == 0).all()):
        problems.append(("at p=1 every element must be 0 (no NaN: do not divide by 1 - p = 0)",
                         "p=1 时每个元素都必须是 0（不能出现 NaN：不要除以 1 - p = 0）"))
    y = fn(x, 0.3)
    kept = y != 0
    if not problems:
        if not torch.allclose(y[kept], x[kept] / 0.7, rtol=1e-5):
            problems.append(("kept values must be x / (1 - p)", "保留的值必须是 x / (1 - p)"))
        elif abs(kept.double().mean().item() - 0.7) > 0.01:
            problems.append((f"kept fraction {kept.double().mean().item():.3f}, expected 1 - p = 0.7",
                             f"保留比例 {kept.double().mean().item():.3f}，应为 1 - p = 0.7"))
        elif torch.equal(fn(x, 0.3), y):
            problems.append(("two calls gave the same mask: draw a new one each call",
                             "两次调用的掩码相同：每次调用都要重新抽样"))
    if problems:
        return report(False, en=problems[0][0] + ".", zh=problems[0][1] + "。")
    return report(True, en="identity in eval and at p=0, zeros at p=1, x/(1-p) where kept.",
                  zh="评估模式下和 p=0 时原样返回输入，p=1 时全为 0，保留下来的元素变成 x/(1-p)。")


#: Exercise 04.4 asks only about layers whose derivative is usually written with their output; ELU's
#: could be too, but PyTorch computes it from the input: an implementation fact, not something to predict.
_LAYERS = {"Softmax": lambda: nn.Softmax(dim=1), "Tanh": lambda: nn.Tanh()}


def inplace_after_works(name: str) -> bool:
    """Does ``loss.backward()`` succeed with ``nn.Dropout(inplace=True)`` right after layer ``name``?"""
    x = torch.randn(4, 5, requires_grad=True)
    y = nn.Dropout(0.5, inplace=True)(_LAYERS[name]()(x))
    try:
        y.sum().backward()
    except RuntimeError:
        return False
    return True


def check_inplace_prediction(prediction) -> bool | None:
    """Exercise 04.4: ``{"Softmax": bool, "Tanh": bool}`` — True if backward still works."""
    if unanswered(prediction):
        return report(None)
    if not isinstance(prediction, dict) or set(prediction) != set(_LAYERS):
        return report(False, en=f"give a dict with the keys {sorted(_LAYERS)}.",
                      zh=f"请给出键为 {sorted(_LAYERS)} 的字典。")
    truth = {name: inplace_after_works(name) for name in _LAYERS}
    wrong = [name for name in _LAYERS if bool(prediction[name]) != truth[name]]
    if wrong:
        return report(False, en=f"not right for {wrong}: does that layer's backward use its OUTPUT?",
                      zh=f"{wrong} 预测错了：想一想，这一层计算梯度时要不要用到它自己的输出？")
    return report(True, en=f"PyTorch agrees: {truth}. Layers whose backward reads their output (Tanh, "
                  "Softmax, Sigmoid, ReLU in PyTorch) break; nn.ELU reads its input, so it works.",
                  zh=f"PyTorch 的结果一样：{truth}。反向传播要读自身输出的层（PyTorch 中的 Tanh、Softmax、Sigmoid、ReLU）"
                  "后面接原地 Dropout 会出错；nn.ELU 读的是输入，所以没问题。")


# -- lesson 05 -----------------------------------------------------------------------------------
@torch.no_grad()
def memorised_fraction(model: nn.Module, split) -> float:
    """Fraction of the flipped points that ``model`` (in eval mode) assigns to their flipped label."""
    was = model.training
    model.eval()
    predicted = model(split.x[split.flipped]).argmax(dim=1)
    model.train(was)
    return (predicted == split.y[split.flipped]).double().mean().item()


def check_memorised(model_p0, model_p05, train_set, answer) -> bool | None:
    """Exercise 05.1: ``answer = (fraction for p=0, fraction for p=0.5)`` of flipped labels learned.

    A prediction, not a measurement: right when the two fractions are in [0, 1] and in the measured
    order (the point of the exercise); the reply shows the measured fractions next to the prediction."""
    if unanswered(answer):
        return report(None)
    try:
        a0, a5 = (float(a) for a in answer)
    except (TypeError, ValueError):
        return report(False, en="give two fractions, e.g. (0.3, 0.1).", zh="请给出两个比例，例如 (0.3, 0.1)。")
    truth = (memorised_fraction(model_p0, train_set), memorised_fraction(model_p05, train_set))
    n = int(train_set.flipped.sum())
    measured = (f"measured over the {n} flipped points (eval mode): p=0 {truth[0]:.0%}, p=0.5 {truth[1]:.0%}",
                f"在 {n} 个被翻转的点上实测（评估模式）：p=0 为 {truth[0]:.0%}，p=0.5 为 {truth[1]:.0%}")
    if not (0 <= a0 <= 1 and 0 <= a5 <= 1):
        return report(False, en="fractions are between 0 and 1 (0.3, not 30).", zh="比例在 0 和 1 之间（写 0.3，不要写 30）。")
    if (truth[0] != truth[1]) and (a0 > a5) != (truth[0] > truth[1]):  # equal: any order will do
        return report(False, en=f"{measured[0]}. Which model fits the training data, noise included, more "
                      "closely?", zh=f"{measured[1]}。哪个模型把训练数据（连同噪声）拟合得更紧？")
    return report(True, en=f"right order; {measured[0]}: that is why the dropout model's training loss "
                  "(eval mode) is higher.", zh=f"顺序对了；{measured[1]}：所以 Dropout 模型在评估模式下的训练损失更高。")


def check_mc_average(probs, model, x, *, samples: int = 50) -> bool | None:
    """Exercise 05.2: ``probs`` = mean softmax over ``samples`` passes with dropout on; model back in eval.

    The error of an average of n passes shrinks like 1/n: compared with a 400-pass reference, the mean
    squared error divided by the per-point single-pass variance is about 1/n. An average of 5 passes
    (≈ 0.2) or the eval-mode prediction fails; 50 passes (≈ 0.02 + 1/400) pass (threshold 0.06).
    """
    if unanswered(probs):
        return report(None)
    if model.training:
        return report(False, en="the model is still in train mode: call model.eval() when done, or "
                      "every later evaluation runs with dropout on.",
                      zh="模型仍处于训练模式：算完后调用 model.eval()，否则之后的每次评估都会开着 Dropout。")
    probs = torch.as_tensor(probs).detach().float()
    if probs.shape != (len(x), 2) or not torch.allclose(probs.sum(dim=1), torch.ones(len(x)), atol=1e-4):
        return report(False, en=f"probs should be {len(x)}×2 class probabilities (rows sum to 1).",
                      zh=f"probs 应该是 {len(x)}×2 的类别概率（每行和为 1）。")
    with torch.no_grad():
        eval_probs = F.softmax(model(x), dim=1)
    if torch.allclose(probs, eval_probs, atol=1e-6):
        return report(False, en="this is the eval-mode prediction (dropout off): switch dropout ON with "
                      "model.train() for the passes, then back with model.eval().",
                      zh="这是评估模式下的预测（Dropout 关闭）：先用 model.train() 打开 Dropout 再做多次前向计算，算完再调用 model.eval() 切回来。")
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(12345)
        model.train()
        passes = torch.stack([F.softmax(model(x), dim=1)[:, 1] for _ in range(400)])
        model.eval()
    variance = passes.var(dim=0)
    useful = variance > 1e-4
    score = ((probs[:, 1] - passes.mean(dim=0))[useful] ** 2 / variance[useful]).mean().item()
    if score > 0.06:
        return report(False, en=f"the average is too noisy (score {score:.2f}, 50 passes give about "
                      f"{1 / samples:.2f}): average {samples} passes with dropout ON (model.train()).",
                      zh=f"平均结果的噪声太大（得分 {score:.2f}，平均 50 次时约为 {1 / samples:.2f}）：请在 "
                      f"model.train() 模式下（Dropout 开启）对 {samples} 次前向计算的结果取平均。")
    return report(True, en=f"an average of about {samples} dropout passes, and the model is back in eval.",
                  zh=f"你对约 {samples} 次开启 Dropout 的前向计算取了平均，模型也已回到评估模式。")


def check_placement(model, *, p: float = 0.3) -> bool | None:
    """Exercise 05.3: ``nn.Dropout(p)`` next to every hidden ReLU, nowhere else.

    Right after the ReLU is the usual place; right before it (``Linear → Dropout → ReLU``) computes the
    same function with the same mask (ReLU(0) = 0, and scaling by 1/(1−p) > 0 commutes with ReLU)."""
    if unanswered(model):
        return report(None)
    layers = list(model.modules())[1:] if isinstance(model, nn.Sequential) else []
    if not layers:
        return report(False, en="build an nn.Sequential.", zh="请构建一个 nn.Sequential。")
    problems = []
    def at(i):
        return layers[i] if 0 <= i < len(layers) else None

    for i, layer in enumerate(layers):
        after_relu = isinstance(at(i - 1), nn.ReLU) or (  # Linear → Dropout → ReLU: the same function
            isinstance(at(i + 1), nn.ReLU) and isinstance(at(i - 1), nn.Linear))
        if isinstance(layer, nn.ReLU) and not (isinstance(at(i + 1), nn.Dropout) or isinstance(at(i - 1), nn.Dropout)):
            problems.append(("a hidden ReLU without nn.Dropout right after it", "有一个隐藏层的 ReLU 后面没有紧跟 nn.Dropout"))
        if isinstance(layer, nn.Dropout) and not after_relu:
            problems.append(("a Dropout that does not follow a ReLU (not on the input or the output)",
                             "有一个 Dropout 没有紧跟在 ReLU 之后（不要放在输入上，也不要放在输出层之后）"))
        if isinstance(layer, nn.Dropout) and not math.isclose(layer.p, p):
            problems.append((f"a Dropout with p={layer.p:g}, asked for p={p:g}", f"Dropout 的 p 应为 {p:g}"))
    if not isinstance(layers[-1], nn.Linear):
        problems.append(("the model must end with its output Linear layer", "模型的最后一层必须是输出用的 Linear 层"))
    if sum(isinstance(m, nn.Linear) for m in layers) != 3:
        problems.append(("keep the three Linear layers of base", "保留 base 的三个 Linear 层"))
    if problems:
        return report(False, en=problems[0][0] + ".", zh=problems[0][1] + "。")
    return report(True, en="dropout next to each hidden ReLU (after it is the usual way to write it; before it "
                  "is the same function); the output layer is left alone.",
                  zh="每个隐藏层的 ReLU 旁边都有 Dropout（通常写在 ReLU 之后；写在之前计算的是同一个函数）；输出层不加 Dropout。")
