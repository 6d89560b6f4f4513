"""ChainedScheduler.step is all or nothing: a schedule that raises leaves every schedule and the optimiser's rates
as they were (the library's rule: a failed operation changes nothing)."""

import pytest

import nablagrad as ng


def test_a_failing_schedule_in_a_chain_changes_nothing():
    p = ng.tensor([1.0], requires_grad=True)
    opt = ng.optim.SGD([p], lr=1.0, momentum=0.9)

    def lam(t):
        if t >= 1:
            raise ValueError("boom")
        return 1.0

    first = ng.optim.StepLR(opt, 1, 0.5)
    chain = ng.optim.ChainedScheduler([first, ng.optim.LambdaLR(opt, lam)])
    before = (opt.param_groups[0]["lr"], first.state_dict(), chain.get_last_lr())
    with pytest.raises(ValueError, match="boom"):
        chain.step()
    assert (opt.param_groups[0]["lr"], first.state_dict(), chain.get_last_lr()) == before
