"""Each error names the construct, the user's file:line:col with the source line and a caret,
and gives a hint."""

import numpy as np
import pytest

import morphism as mo


def uses_with(x):
    with open("f") as fh:  # noqa: F841
        pass
    return x


def uses_try(x):
    try:
        y = x + 1
    except ValueError:
        y = x
    return y


def unknown_numpy(x):
    return np.fft.fft(x)


def unknown_library(x):
    import json

    return json.dumps(x)


def maybe_undefined(x):
    if x > 0:
        y = x * 2
    return y


def branch_types(x, a):
    if x > 0:
        y = a
    else:
        y = 1.0
    return y


def loop_changes_kind(x, a):
    y = 0.0
    for i in range(3):
        y = a * y
    return y


def array_truth(a):
    if a > 0:
        return 1.0
    return 0.0


def float_index(a, t):
    return a[t]


def generator(x):
    yield x


def global_stmt(x):
    global COUNTER
    return x


def _check(err, construct, func_line_text):
    msg = str(err.value)
    assert construct in msg, msg
    assert __file__.rsplit("/", 1)[-1] in msg, msg
    assert func_line_text in msg, msg
    assert "^" in msg, msg
    assert err.value.loc is not None and err.value.loc.line > 0
    return msg


def test_unsupported_statement_with():
    with pytest.raises(mo.UnsupportedSyntaxError) as e:
        mo.jit(uses_with)(1.0)
    msg = _check(e, "'with' statement", 'with open("f") as fh')
    assert "hint:" in msg


def test_unsupported_statement_try():
    with pytest.raises(mo.UnsupportedSyntaxError) as e:
        mo.jit(uses_try)(1.0)
    _check(e, "'try' statement", "try:")


def test_unknown_numpy_function_names_it_and_hints_custom_vjp():
    with pytest.raises(mo.UnsupportedSyntaxError) as e:
        mo.jit(unknown_numpy)(np.ones(4))
    msg = _check(e, "numpy.fft.fft", "np.fft.fft(x)")
    assert "custom_vjp" in msg


def test_unknown_library_call():
    with pytest.raises(mo.UnsupportedSyntaxError) as e:
        mo.jit(unknown_library)(1.0)
    _check(e, "json.dumps", "json.dumps(x)")


def test_variable_maybe_undefined_after_branch():
    with pytest.raises(mo.UndefinedVariableError) as e:
        mo.jit(maybe_undefined)(1.0)
    msg = _check(e, "'y'", "return y")
    assert "one branch" in msg


def test_incompatible_types_between_branches():
    with pytest.raises(mo.MorphismTypeError) as e:
        mo.jit(branch_types)(1.0, np.ones(3))
    msg = _check(e, "incompatible types between branches", "if x > 0:")
    assert "f64[:]" in msg and "f64" in msg


def test_loop_variable_changes_kind():
    with pytest.raises(mo.MorphismTypeError) as e:
        mo.jit(loop_changes_kind)(1.0, np.ones(3))
    _check(e, "'y'", "for i in range(3):")


def test_truth_value_of_array():
    with pytest.raises(mo.MorphismTypeError) as e:
        mo.jit(array_truth)(np.ones(3))
    msg = _check(e, "ambiguous", "if a > 0:")
    assert "any()" in msg


def test_float_index():
    with pytest.raises(mo.MorphismTypeError) as e:
        mo.jit(float_index)(np.ones(3), 1.0)
    _check(e, "integer", "return a[t]")


def test_generator_and_global():
    with pytest.raises(mo.UnsupportedSyntaxError) as e:
        mo.jit(generator)(1.0)
    _check(e, "yield", "yield x")
    with pytest.raises(mo.UnsupportedSyntaxError) as e:
        mo.jit(global_stmt)(1.0)
    _check(e, "'global' statement", "global COUNTER")


def add(x, y):
    return x + y


def test_wrong_argument_types():
    with pytest.raises(mo.ArgumentError) as e:
        mo.jit(add)("a", 1.0)
    assert "argument x of add" in str(e.value)
    with pytest.raises(mo.ArgumentError) as e:
        mo.jit(add)(np.ones(3, dtype=np.float16), 1.0)  # float32 and the others work (test_dtypes.py)
    assert "float16" in str(e.value) and "astype" in str(e.value)
    with pytest.raises(mo.ArgumentError) as e:
        mo.jit(add)(1.0)
    assert "missing" in str(e.value)


def test_wrong_argument_types_for_an_operation():
    def cat(x, s):
        return x + s

    with pytest.raises(mo.ArgumentError):
        mo.jit(cat)(1.0, "s")


def test_errors_are_morphism_errors_and_python_errors():
    assert issubclass(mo.MorphismTypeError, TypeError)
    assert issubclass(mo.UndefinedVariableError, NameError)
    assert issubclass(mo.UnsupportedSyntaxError, mo.MorphismError)


def no_source_available():
    pass


def test_runtime_assert_and_raise():
    def f(x):
        assert x > 0, "x must be positive"
        if x > 10:
            raise ValueError("too big")
        return x

    j = mo.jit(f)
    assert j(1.0) == 1.0
    with pytest.raises(AssertionError, match="x must be positive"):
        j(-1.0)
    with pytest.raises(ValueError, match="too big"):
        j(11.0)


def write_rows(x, y):
    x = x.copy()
    x[1:3] = y
    return x


@pytest.mark.parametrize("backend", ["interpreter", "native"])
def test_run_time_shape_error_names_the_users_line(backend):
    # A value that does not broadcast into the region it is written to: the error raised while
    # running (NumPy's in the interpreter, the generated code's natively) names the line.
    with pytest.raises(ValueError) as info:
        mo.jit(write_rows, backend=backend)(np.zeros(5), np.ones(4))
    text = str(info.value) + "\n".join(getattr(info.value, "__notes__", []))
    assert "test_errors.py" in text and "x[1:3] = y" in text
    assert np.array_equal(mo.jit(write_rows, backend=backend)(np.zeros(5), np.ones(2)), [0, 1, 1, 0, 0])
