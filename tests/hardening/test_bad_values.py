"""Bad values are named early: the error type, the bad value and the fix are in the message."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.data import DataFormatError
from nablagrad.nn import functional as F


def _params():
    return [ng.nn.Parameter(ng.tensor(np.zeros(2, np.float32))), ng.nn.Parameter(ng.tensor(np.zeros(3, np.float32)))]


# (name, optimiser, kwargs, error, message, torch's name for the class or None when torch accepts it)
OPTIMIZER_CASES = [
    ("lr=inf", "SGD", dict(lr=float("inf")), ValueError, r"lr must be a finite number >= 0, e\.g\. lr=1e-3, got inf", None),
    ("lr=nan", "Adam", dict(lr=float("nan")), ValueError, r"lr must be a finite number >= 0.*got nan", "Adam"),
    ("lr=None", "SGD", dict(lr=None), TypeError, r"lr must be .* got None", "SGD"),
    ("lr='0.1'", "Adam", dict(lr="0.1"), TypeError, r"lr must be .* got '0.1'", "Adam"),
    ("lr=-1", "RMSProp", dict(lr=-1.0), ValueError, r"lr must be .* got -1", "RMSprop"),
    ("negative momentum", "SGD", dict(lr=0.1, momentum=-0.5), ValueError, r"momentum must be a finite number >= 0, typically 0\.9, got -0\.5", "SGD"),  # noqa: E501  # noqa: E501
    ("negative weight_decay", "SGD", dict(lr=0.1, weight_decay=-1e-4), ValueError, r"weight_decay must be .*>= 0 \(0 for none\), got -0\.0001", "SGD"),  # noqa: E501  # noqa: E501
    ("negative weight_decay Adam", "Adam", dict(weight_decay=-1.0), ValueError, r"weight_decay must be .* got -1", "Adam"),
    ("negative eps", "Adam", dict(eps=-1e-8), ValueError, r"eps must be a small finite number >= 0, e\.g\. 1e-8, got -1e-08", "Adam"),  # noqa: E501  # noqa: E501
    ("alpha=2", "RMSProp", dict(alpha=2.0), ValueError, r"alpha must be a smoothing constant in \[0, 1\], e\.g\. 0\.99, got 2", None),  # noqa: E501  # noqa: E501
    ("alpha=-1", "RMSProp", dict(alpha=-1.0), ValueError, r"alpha must be .* got -1", "RMSprop"),
    ("betas=(0.9,)", "Adam", dict(betas=(0.9,)), ValueError, r"betas must be a pair \(β1, β2\) with each in \[0, 1\).*got \(0\.9,\)", None),  # noqa: E501  # noqa: E501
    ("betas=(1.0, 0.9)", "Adam", dict(betas=(1.0, 0.9)), ValueError, r"betas must be a pair.*got \(1\.0, 0\.9\)", "Adam"),
    ("negative lr_decay", "AdaGrad", dict(lr_decay=-1.0), ValueError, r"lr_decay must be .* got -1", "Adagrad"),
    ("negative accumulator", "AdaGrad", dict(initial_accumulator_value=-1.0), ValueError, r"initial_accumulator_value .* got -1", "Adagrad"),  # noqa: E501  # noqa: E501
    ("forgetting=0", "Momentum", dict(forgetting=0.0), ValueError, r"forgetting must be a rate λ in \(0, 1\], e\.g\. 0\.1, got 0", None),  # noqa: E501  # noqa: E501
    ("nesterov without momentum", "SGD", dict(lr=0.1, nesterov=True), ValueError, r"nesterov needs momentum > 0.*momentum=0", "SGD"),  # noqa: E501  # noqa: E501
    ("nesterov='yes'", "SGD", dict(lr=0.1, momentum=0.9, nesterov="yes"), TypeError, r"nesterov must be True or False, got 'yes'", None),  # noqa: E501  # noqa: E501
    ("amsgrad=None", "Adam", dict(amsgrad=None), TypeError, r"amsgrad must be True or False, got None", None),
]  # fmt: skip


@pytest.mark.parametrize("name, cls, kwargs, error, message, torch_cls", OPTIMIZER_CASES, ids=[c[0] for c in OPTIMIZER_CASES])
def test_optimiser_arguments_are_validated(name, cls, kwargs, error, message, torch_cls):
    with pytest.raises(error, match=f"{cls}: " + message):
        getattr(ng.optim, cls)(_params(), **kwargs)


@pytest.mark.parametrize(
    "name, cls, kwargs, error, message, torch_cls", [c for c in OPTIMIZER_CASES if c[5]], ids=[c[0] for c in OPTIMIZER_CASES if c[5]]  # noqa: E501  # noqa: E501
)
def test_torch_refuses_the_same_arguments(name, cls, kwargs, error, message, torch_cls):
    torch = pytest.importorskip("torch")
    with pytest.raises((ValueError, TypeError)):  # the oracle: these are errors in torch.optim too
        getattr(torch.optim, torch_cls)([torch.zeros(2, requires_grad=True)], **kwargs)


def test_the_same_parameter_twice_is_refused():
    p = _params()
    with pytest.raises(ValueError, match=r"SGD: the parameter at position 1 \(shape \(2,\)\) is given twice.*Pass each parameter once"):  # noqa: E501  # noqa: E501
        ng.optim.SGD([p[0], p[0]], lr=0.1)
    with pytest.raises(ValueError, match="given twice"):
        ng.optim.Adam([{"params": [p[0]]}, {"params": [p[1], p[0]]}])
    with pytest.raises(TypeError, match="params must be an iterable of tensors or of parameter-group dicts, got a Parameter"):
        ng.optim.SGD(p[0], lr=0.1)


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers(tmp_path):
    m = ng.nn.Sequential(ng.nn.Linear(2, 2))
    opt = ng.optim.Adam(m.parameters(), lr=np.float32(0.1), betas=(np.float64(0.8), 0.9), eps=np.float16(1e-3))
    g = opt.param_groups[0]
    assert type(g["lr"]) is float and g["lr"] == pytest.approx(0.1) and g["betas"] == (0.8, 0.9)
    ng.io.save(m, tmp_path / "m.safetensors", optimizer=opt)  # JSON-able
    sgd = ng.optim.SGD(m.parameters(), lr=np.float64(0.5), momentum=np.float32(0.5))
    assert sgd.param_groups[0]["lr"] == 0.5 and type(sgd.param_groups[0]["momentum"]) is float


def _p(*shape):
    return ng.tensor(np.zeros(shape, np.float32), requires_grad=True)


LOSS_CASES = [
    ("mse (4,2) vs (2,4)", lambda: F.mse_loss(_p(4, 2), np.zeros((2, 4))), ValueError, r"mse_loss: prediction has shape \(4, 2\) but target has shape \(2, 4\); give a target of shape \(4, 2\)"),  # noqa: E501  # noqa: E501
    ("mse (3,) vs (4,)", lambda: F.mse_loss(_p(3), np.zeros(4)), ValueError, r"shape \(3,\) but target has shape \(4,\)"),
    ("MSELoss (6,) vs (2,3)", lambda: ng.nn.MSELoss()(_p(6), np.zeros((2, 3))), ValueError, r"\(6,\) but target has shape \(2, 3\)"),  # noqa: E501  # noqa: E501
    ("l1 (2,3) vs (3,2)", lambda: F.l1_loss(_p(2, 3), np.zeros((3, 2))), ValueError, r"l1_loss: prediction has shape \(2, 3\)"),
    ("bce_logits (2,2) vs (4,)", lambda: F.binary_cross_entropy_with_logits(_p(2, 2), np.zeros(4)), ValueError, "binary_cross_entropy_with_logits: prediction"),  # noqa: E501  # noqa: E501
    ("mse target None", lambda: F.mse_loss(_p(3), None), TypeError, r"mse_loss: the target must be a numeric array of shape \(3,\), got NoneType"),  # noqa: E501  # noqa: E501
    ("mse target strings", lambda: F.mse_loss(_p(2), ["a", "b"]), TypeError, "got list"),
    ("bce NaN probability", lambda: F.binary_cross_entropy(ng.tensor([0.5, np.nan]), np.ones(2)), ValueError, r"probabilities must lie in \[0, 1\], got nan; .*binary_cross_entropy_with_logits"),  # noqa: E501  # noqa: E501
    ("bce probability 1.5", lambda: ng.nn.BCELoss()(ng.tensor([1.5]), np.ones(1)), ValueError, r"got 1\.5"),
    ("cross_entropy labels out of range", lambda: F.cross_entropy(_p(2, 3), np.array([0, 3])), ValueError, r"labels must lie in \[0, 2\], got range \[0, 3\]"),  # noqa: E501  # noqa: E501
    ("hinge labels 0/1", lambda: F.hinge_loss(_p(2), np.array([0.0, 1.0])), ValueError, "labels must be −1 or \\+1"),
]  # fmt: skip


@pytest.mark.parametrize("name, call, error, message", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_losses_name_bad_targets(name, call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss, F.binary_cross_entropy,
                                  F.binary_cross_entropy_with_logits])
def test_losses_refuse_targets_that_differ_only_by_size_one_axes(loss):
    """(N, 1) against (N,): PyTorch's BCE refuses it, its MSE broadcasts to (N, N) (never what was meant);
    reshaping would hide a model with the wrong output shape. Refused, naming both shapes and the fix."""
    pred = ng.tensor(np.full((4, 1), 0.25, dtype=np.float32))
    with pytest.raises(ValueError, match=r"prediction has shape \(4, 1\) but target has shape \(4,\); reshape the target"):
        loss(pred, np.zeros(4, dtype=np.float32))
    with pytest.raises(ValueError, match=r"shape \(3,\) but target has shape \(1, 3\)"):
        loss(ng.tensor(np.full(3, 0.25)), np.zeros((1, 3)))


def test_torch_refuses_or_broadcasts_a_column_prediction_against_a_flat_target():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="size"):
        torch.nn.functional.binary_cross_entropy(torch.full((4, 1), 0.5), torch.zeros(4))
    with pytest.warns(UserWarning, match="broadcasting"):
        assert torch.nn.functional.mse_loss(torch.zeros(4, 1), torch.arange(4.0)).shape == ()


def test_fit_and_evaluate_read_a_flat_target_as_the_column_of_a_one_output_model():
    """Keras's reading: y of shape (N,) for a model whose output is (N, 1), with nablagrad's own loss."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5], dtype=np.float32)
    runs = []
    for target in (y, y.reshape(-1, 1)):
        model = ng.nn.Linear(3, 1, seed=0)
        hist = ng.train.fit(model, ng.nn.MSELoss(), ng.optim.SGD(model.parameters(), lr=0.05), X, target, epochs=3,
                            batch_size=16, seed=1, validation_data=(X, target))  # fmt: skip
        runs.append((hist.history["loss"], hist.history["val_loss"], ng.train.evaluate(model, "mse", X, target, metrics=["mse"])))
    assert runs[0] == runs[1]
    own = lambda o, t: ((o[:, 0] - t) ** 2).mean()  # noqa: E731 - a loss of one's own gets y as given
    model = ng.nn.Linear(3, 1, seed=0)
    ng.train.fit(model, own, ng.optim.SGD(model.parameters(), lr=0.05), X, y, epochs=1, batch_size=16)


def test_pytorch_also_refuses_a_target_of_another_shape():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.nn.functional.mse_loss(torch.zeros(4, 2), torch.zeros(2, 4))


LINEAR_CASES = [
    ("a 0-d tensor", lambda lin: lin(ng.tensor(1.0)), ValueError, r"Linear\(3, 2\): expected an input of shape \(N, 3\) or \(3,\), got a scalar"),  # noqa: E501  # noqa: E501
    ("a string", lambda lin: lin("abc"), TypeError, r"Linear\(3, 2\): expected a numeric array or tensor of shape \(N, 3\), got str"),  # noqa: E501  # noqa: E501
    ("None", lambda lin: lin(None), TypeError, "got NoneType"),
    ("5 features", lambda lin: lin(np.zeros((2, 5))), ValueError, r"input has 5 features \(shape \(2, 5\)\), expected 3"),
    ("in_features=2.5", lambda lin: ng.nn.Linear(2.5, 2), TypeError, r"Linear: in_features must be a positive integer, got 2\.5"),
    ("out_features=0", lambda lin: ng.nn.Linear(3, 0), ValueError, r"out_features must be a positive integer, got 0"),
    ("in_features='3'", lambda lin: ng.nn.Linear("3", 2), TypeError, r"got '3'"),
]  # fmt: skip


@pytest.mark.parametrize("name, call, error, message", LINEAR_CASES, ids=[c[0] for c in LINEAR_CASES])
def test_linear_names_bad_inputs(name, call, error, message):
    lin = ng.nn.Linear(3, 2)
    before = lin.state_dict()
    with pytest.raises(error, match=message):
        call(lin)
    for k, v in lin.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


LOADER_CASES = [
    ("batch_size=0", dict(batch_size=0), ValueError, r"batch_size must be a positive integer or None \(one full batch\), got 0"),
    ("batch_size=-3", dict(batch_size=-3), ValueError, "got -3"),
    ("batch_size=2.5", dict(batch_size=2.5), ValueError, r"got 2\.5"),
    ("batch_size='32'", dict(batch_size="32"), ValueError, "got '32'"),
    ("sampling='bogus'", dict(sampling="bogus"), ValueError, r"sampling must be one of \('shuffle'"),
    ("y of another length", dict(y=np.zeros(3)), ValueError, "X has 10 rows but y has 3"),
    ("y a scalar", dict(y=5), TypeError, "y must be an array with one row per example, got int"),
]  # fmt: skip


@pytest.mark.parametrize("name, kwargs, error, message", LOADER_CASES, ids=[c[0] for c in LOADER_CASES])
def test_dataloader_names_bad_arguments(name, kwargs, error, message):
    with pytest.raises(error, match="DataLoader: .*" + message):
        ng.data.DataLoader(np.zeros((10, 2)), **{"y": np.zeros(10), **kwargs})


CSV_CASES = [
    ("an empty file", b"", {}, r"holds no rows of numbers"),
    ("only a header", b"a,b,c\n", {}, r"holds no rows of numbers"),
    ("a binary file", bytes(range(256)) * 4, {}, r"is not a text file"),
    ("a ragged table", b"1,2,3\n4,5\n", {}, r"not a rectangular numeric table"),
    ("label column 7 of 3", b"1,2,3\n4,5,6\n", {"label_column": 7}, r"label_column=7 but .* has 3 columns; give an index in 0\.\.2"),  # noqa: E501  # noqa: E501
    ("label column -4 of 3", b"1,2,3\n4,5,6\n", {"label_column": -4}, r"label_column=-4"),
    ("a folder", None, {}, r"no such file"),
]  # fmt: skip


@pytest.mark.parametrize("name, content, kwargs, message", CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_load_csv_names_bad_files(tmp_path, name, content, kwargs, message):
    path = tmp_path / "d.csv"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(DataFormatError, match="load_csv: .*" + message):
        ng.data.load_csv(path, **kwargs)


def test_load_csv_reads_a_good_file_and_negative_label_columns(tmp_path):
    (tmp_path / "d.csv").write_text("x1,x2,label\n0.5,1.5,1\n2.5,3.5,0\n")
    X, y = ng.data.load_csv(tmp_path / "d.csv", label_column=-1)
    np.testing.assert_array_equal(X, [[0.5, 1.5], [2.5, 3.5]])
    np.testing.assert_array_equal(y, [1, 0])


AXIS_CASES = [
    ("sum axis=2", lambda x: x.sum(axis=2), r"sum: invalid axis for an input of shape \(2, 3\) .*give each axis once, in -2\.\.1, or axis=None"),  # noqa: E501
    ("mean axis=-3", lambda x: x.mean(axis=-3), r"mean: invalid axis .*-3 is out of bounds"),
    ("max axis=(0, 0)", lambda x: x.max(axis=(0, 0)), r"max: invalid axis .*duplicate"),
    ("logsumexp axis=5", lambda x: ng.logsumexp(x, axis=5), r"logsumexp: invalid axis"),
]  # fmt: skip


@pytest.mark.parametrize("name, call, message", AXIS_CASES, ids=[c[0] for c in AXIS_CASES])
def test_reductions_name_a_bad_axis_not_broadcasting(name, call, message):
    x = ng.ones(2, 3)
    with pytest.raises(ValueError, match=message) as info:
        call(x)
    assert "broadcastable" not in str(info.value)


BAD_DIM_CASES = [
    ("transpose(0, 3)", lambda x: x.transpose(0, 3), IndexError, r"swapaxes: axis 3 is out of range for a tensor with 2 dimensions; give an int in -2..1"),  # noqa: E501
    ("permute(0, 0)", lambda x: x.permute(0, 0), IndexError, r"transpose: the axes must be a permutation of 0\.\.1"),
    ("permute(0,)", lambda x: x.permute(0), IndexError, r"transpose: the axes must be a permutation"),
    ("squeeze(5)", lambda x: x.squeeze(5), IndexError, r"squeeze: axis 5 is out of range .* -2\.\.1"),
    ("unsqueeze(5)", lambda x: x.unsqueeze(5), IndexError, r"unsqueeze: axis 5 is out of range"),
    ("flatten(5)", lambda x: ng.flatten(x, 5), IndexError, r"flatten: axis 5 is out of range"),
    ("flatten(1, 0)", lambda x: ng.flatten(x, 1, 0), ValueError, r"flatten: start_dim 1 comes after end_dim 0"),
    ("median dim=5", lambda x: ng.median(x, dim=5), IndexError, r"median: axis 5 is out of range"),  # was axis 5 % 2
    ("quantile dim=-3", lambda x: ng.quantile(x, 0.5, dim=-3), IndexError, r"quantile: axis -3 is out of range"),
    ("topk dim=2", lambda x: ng.topk(x, 1, dim=2), IndexError, r"topk: axis 2 is out of range"),
    ("diff dim=2", lambda x: ng.diff(x, dim=2), IndexError, r"diff: axis 2 is out of range"),
    ("sort dim=2", lambda x: ng.sort(x, dim=2), IndexError, r"\bsort: axis 2 is out of range"),
    ("argmax dim=2", lambda x: x.argmax(dim=2), IndexError, r"argmax: axis 2 is out of range"),
    ("cumsum of 0-d dim=1", lambda x: x.sum().cumsum(dim=1), IndexError, r"cumsum: axis 1 is out of range"),
    ("sum of 0-d dim=1", lambda x: x.sum().sum(dim=1), IndexError, r"sum: dim 1 is out of range for a 0-d tensor"),
    ("diff of 0-d", lambda x: ng.diff(x.sum()), ValueError, r"diff: needs a tensor of at least 1 dimension"),
    ("max of empty", lambda x: x[:0].max(), ValueError, r"max: cannot reduce an empty tensor of shape \(0, 3\)"),
    ("int ** -1", lambda x: ng.tensor([1, 2]) ** -1, ValueError, r"pow: Integers to negative integer powers"),
    ("gather index too big", lambda x: ng.gather(x, 1, ng.tensor([[0], [1], [0]])), ValueError, r"gather: index of shape \(3, 1\)"),  # noqa: E501
    ("take_along float index", lambda x: ng.take_along_axis(x, ng.tensor([[0.0]]), 1), TypeError, r"take_along_axis: indices must be integers"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize("name, call, error, message", BAD_DIM_CASES, ids=[c[0] for c in BAD_DIM_CASES])
def test_bad_dims_and_values_name_the_op_and_the_fix_not_broadcasting(name, call, error, message):
    """Each raises where PyTorch raises (an out-of-range dim is an IndexError there: ours is an
    AxisError, both an IndexError and a ValueError), naming the op — never NumPy's bare
    "tuple index out of range", a silently wrapped axis, or the broadcasting hint."""
    x = ng.ones(2, 3)
    with pytest.raises(error, match=message) as info:
        call(x)
    assert "broadcastable" not in str(info.value)


def test_a_wrapped_op_error_keeps_its_own_message():
    with pytest.raises(ValueError, match=r"cross_entropy: labels must lie in \[0, 2\]") as info:
        ng.nn.CrossEntropyLoss()(ng.zeros((2, 3)), ng.tensor([0, 3]))
    assert "broadcastable" not in str(info.value)
