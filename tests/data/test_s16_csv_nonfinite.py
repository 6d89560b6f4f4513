"""``load_csv`` refuses NaN and ±inf cells, naming the file's line and the column (and its header name), as the
playground's upload does; ``allow_nonfinite=True`` keeps them, reading the same numbers as NumPy's parser."""

import numpy as np
import pytest

from nablagrad.data import DataFormatError, load_csv

TEXT = "label,a,b\n# a comment line\n1,0.5,2\n\n0,1.5,{cell}\n1,2.5,3\n"


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf"])
def test_a_nonfinite_cell_is_refused_naming_its_line_and_column(tmp_path, cell):
    path = tmp_path / "d.csv"
    path.write_text(TEXT.format(cell=cell))
    message = (r"load_csv: .*d\.csv, line 5, column 2 \('b'\): the cell is -?(nan|inf) \(not a finite number\); "
               r"fill or remove it, or pass allow_nonfinite=True")
    with pytest.raises(DataFormatError, match=message):
        load_csv(path)


def test_without_a_header_the_line_counts_from_the_first(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1,2,3\ninf,5,6\n")
    with pytest.raises(DataFormatError, match=r"line 2, column 0: the cell is inf"):
        load_csv(path)
    with pytest.raises(DataFormatError, match=r"line 2, column 0"):
        load_csv(path, label_column=None)


def test_allow_nonfinite_keeps_the_cells_as_numpy_reads_them(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(TEXT.format(cell="nan"))
    X, y = load_csv(path, allow_nonfinite=True)
    table = np.genfromtxt(path, delimiter=",", skip_header=1, comments="#")
    np.testing.assert_array_equal(X, table[:, 1:])
    np.testing.assert_array_equal(y, table[:, 0])
    with pytest.raises(TypeError, match="allow_nonfinite must be True or False"):
        load_csv(path, allow_nonfinite="yes")
