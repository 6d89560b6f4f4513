"""``scheduler.get_lr()`` called by hand, as PyTorch's: its warning, and its value (the chained rule applied
once more to the current rates, at a milestone and between)."""

import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda o: ng.optim.StepLR(o, step_size=3, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
        (lambda o: ng.optim.ExponentialLR(o, gamma=0.9), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
        (lambda o: ng.optim.CosineAnnealingLR(o, T_max=10), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 10)),
        (lambda o: ng.optim.StepLR(o, step_size=2, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5)),
        (lambda o: ng.optim.MultiStepLR(o, [1, 4], gamma=0.3),
         lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [1, 4], 0.3)),
    ],
)
def test_get_lr_warns_and_gives_the_current_rates_as_torch(ours, theirs):
    p = ng.tensor([1.0], requires_grad=True)
    opt = ng.optim.SGD([p], lr=0.1)
    sched = ours(opt)
    tp = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1)
    tsched = theirs(topt)
    for _ in range(4):
        opt.step()
        sched.step()
        topt.step()
        tsched.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        got = sched.get_lr()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        want = tsched.get_lr()
    assert got == pytest.approx(want, rel=1e-12)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
