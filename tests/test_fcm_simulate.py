"""Every rule and transfer checked against values worked out by hand on 2-concept maps."""
import math

import numpy as np
import pytest

from fcm.simulate import SimulationConfig, parse_clamp_value, run, scenario


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# A -> B with weight w; W[i, j] is the effect of i on j.
def ab(w: float) -> np.ndarray:
    return np.array([[0.0, w], [0.0, 0.0]])


def one_step(W, start, **cfg) -> np.ndarray:
    return run(W, np.array(start, dtype=float), SimulationConfig(max_iter=1, **cfg)).state


def test_kosko_sigmoid_two_steps():
    # step 1 from (1, 1): inputs (0, 0.5); step 2 from (0.5, sig(.5)): inputs (0, 0.25)
    assert one_step(ab(0.5), [1, 1], rule="kosko") == pytest.approx([0.5, sig(0.5)])
    two = run(ab(0.5), np.ones(2), SimulationConfig(rule="kosko", max_iter=2)).state
    assert two == pytest.approx([0.5, sig(0.25)])


def test_mkosko_sigmoid_keeps_own_activation():
    # A + A@W from (1, 1) = (1, 1.5); from (0.5, 0.25) = (0.5, 0.5)
    assert one_step(ab(0.5), [1, 1], rule="mkosko") == pytest.approx([sig(1.0), sig(1.5)])
    assert one_step(ab(0.5), [0.5, 0.25], rule="mkosko") == pytest.approx([sig(0.5), sig(0.5)])


def test_rescaled_sigmoid():
    # R = 2A - 1 = (0, -0.5); R + R@W = (0, -0.5 + 0 * 0.5)
    assert one_step(ab(0.5), [0.5, 0.25], rule="rescaled") == pytest.approx([0.5, sig(-0.5)])
    # R = (1, 0.5); R + R@W = (1, 0.5 + 0.5)
    assert one_step(ab(0.5), [1, 0.75], rule="rescaled") == pytest.approx([sig(1.0), sig(1.0)])


def test_sigmoid_lambda_scales_input():
    assert one_step(ab(0.5), [1, 1], rule="kosko", lam=3.0) == pytest.approx([0.5, sig(1.5)])


def test_tanh_with_lambda():
    assert one_step(ab(0.5), [1, 1], rule="kosko", transfer="tanh", lam=2.0) == pytest.approx(
        [0.0, math.tanh(1.0)])
    assert one_step(ab(-0.5), [1, 1], rule="mkosko", transfer="tanh") == pytest.approx(
        [math.tanh(1.0), math.tanh(0.5)])


def test_bivalent():
    # inputs (0, 0.5) -> (0, 1): zero is not > 0
    assert one_step(ab(0.5), [1, 1], rule="kosko", transfer="bivalent").tolist() == [0.0, 1.0]
    assert one_step(ab(-0.5), [1, 1], rule="kosko", transfer="bivalent").tolist() == [0.0, 0.0]


def test_trivalent():
    assert one_step(ab(-0.5), [1, 1], rule="kosko", transfer="trivalent").tolist() == [0.0, -1.0]
    # mkosko: (1, 1 - 0.5) -> (1, 1); rescaled from (0, 1): R = (-1, 1), R + R@W = (-1, 1.5)
    assert one_step(ab(-0.5), [1, 1], rule="mkosko", transfer="trivalent").tolist() == [1.0, 1.0]
    assert one_step(ab(0.5), [0, 1], rule="rescaled", transfer="trivalent").tolist() == [-1.0, 1.0]


def test_steady_state_reached_and_reported():
    res = run(ab(0.5), np.ones(2), SimulationConfig(rule="kosko"))
    assert res.converged and res.cycle_length is None
    assert res.state == pytest.approx([0.5, sig(0.25)])
    assert res.iterations == 3  # step 3 equals step 2 exactly


def test_two_cycle_detected_not_called_converged():
    W = np.array([[0.0, 1.0], [1.0, 0.0]])  # A and B swap every step
    res = run(W, np.array([1.0, -1.0]), SimulationConfig(rule="kosko", transfer="trivalent"))
    assert not res.converged and res.cycle_length == 2 and res.iterations == 2


def test_four_cycle_of_a_negative_loop():
    # A -> B (+1), B -> A (-1): (1,1) -> (-1,1) -> (-1,-1) -> (1,-1) -> (1,1)
    W = np.array([[0.0, 1.0], [-1.0, 0.0]])
    res = run(W, np.ones(2), SimulationConfig(rule="kosko", transfer="trivalent"))
    assert not res.converged and res.cycle_length == 4 and res.iterations == 4
    assert res.state.tolist() == [1.0, 1.0]


def test_continuous_limit_cycle_detected():
    # the same negative loop with tanh(2x) settles onto a period-4 orbit whose magnitude x is the
    # positive root of x = tanh(2x), 0.9575
    W = np.array([[0.0, 1.0], [-1.0, 0.0]])
    res = run(W, np.ones(2), SimulationConfig(rule="kosko", transfer="tanh", lam=2.0))
    assert not res.converged and res.cycle_length == 4
    assert np.abs(res.state) == pytest.approx([0.9575, 0.9575], abs=1e-3)
    assert math.tanh(2 * 0.9575) == pytest.approx(0.9575, abs=1e-3)


def test_iteration_cap_without_convergence():
    W = np.array([[0.0, 1.0], [-1.0, 0.0]])
    res = run(W, np.ones(2), SimulationConfig(rule="kosko", transfer="trivalent", max_iter=3))
    assert not res.converged and res.cycle_length is None and res.iterations == 3


def test_scenario_matches_mental_modeler_by_hand():
    # kosko/sigmoid: baseline A = sig(0) = .5, B = sig(.8 * .5); clamped A = 1: B = sig(.8)
    res = scenario(["A", "B"], ab(0.8), {"A": 1.0}, SimulationConfig(rule="kosko"))
    assert res.baseline.state == pytest.approx([0.5, sig(0.4)])
    assert res.delta == pytest.approx({"B": sig(0.8) - sig(0.4)})
    assert res.converged


def test_effect_flows_source_to_target_only():
    up = scenario(["A", "B"], ab(0.8), {"A": 1.0})
    assert up.delta["B"] > 0.01
    back = scenario(["A", "B"], ab(0.8), {"B": 1.0})
    assert back.delta["A"] == 0.0


RULE_TRANSFER = [(r, t) for r in ("kosko", "mkosko", "rescaled")
                 for t in ("sigmoid", "tanh", "bivalent", "trivalent")]


@pytest.fixture(scope="module")
def random_map():
    rng = np.random.default_rng(1)
    W = rng.uniform(-1, 1, (6, 6)) * (rng.random((6, 6)) < 0.4)
    np.fill_diagonal(W, 0)
    W[5, :] = W[:, 5] = 0  # concept F is unconnected
    return list("ABCDEF"), W


@pytest.mark.parametrize("rule,transfer", RULE_TRANSFER)
def test_clamped_concept_keeps_its_value(random_map, rule, transfer):
    names, W = random_map
    res = scenario(names, W, {"B": 0.62, "C": -0.25}, SimulationConfig(rule=rule, transfer=transfer))
    assert res.scenario.state[1] == 0.62 and res.scenario.state[2] == -0.25
    assert set(res.delta) == {"A", "D", "E", "F"}


@pytest.mark.parametrize("rule,transfer", RULE_TRANSFER)
def test_empty_scenario_gives_zero_deltas(random_map, rule, transfer):
    names, W = random_map
    res = scenario(names, W, {}, SimulationConfig(rule=rule, transfer=transfer))
    assert all(d == 0.0 for d in res.delta.values()) and len(res.delta) == 6


@pytest.mark.parametrize("rule,transfer", RULE_TRANSFER)
def test_unconnected_concept_does_not_move(random_map, rule, transfer):
    names, W = random_map
    res = scenario(names, W, {"A": 1.0, "B": -1.0}, SimulationConfig(rule=rule, transfer=transfer))
    assert res.delta["F"] == 0.0


def test_unknown_clamp_name():
    with pytest.raises(KeyError, match="Z"):
        scenario(["A", "B"], ab(0.5), {"Z": 1.0})


@pytest.mark.parametrize("text,value", [("high", 1.0), ("medium", 0.62), ("low", 0.25),
                                        ("-high", -1.0), ("-Low", -0.25), ("0.3", 0.3), ("-1", -1.0)])
def test_clamp_values(text, value):
    assert parse_clamp_value(text) == value


@pytest.mark.parametrize("text", ["abc", "1.5", "-2", "nan", ""])
def test_bad_clamp_values(text):
    with pytest.raises(ValueError):
        parse_clamp_value(text)


def test_bad_config():
    with pytest.raises(ValueError, match="rule"):
        SimulationConfig(rule="hebbian")
    with pytest.raises(ValueError, match="transfer"):
        SimulationConfig(transfer="relu")
    with pytest.raises(ValueError, match="lambda"):
        SimulationConfig(lam=float("nan"))
    with pytest.raises(ValueError, match="max_iter"):
        SimulationConfig(max_iter=0)


def test_sparse_maps_iterate_like_the_dense_formula():
    # 5% density takes the sum-over-edges path; compare with A(t+1) = sig(A(t) + A(t) @ W) written out
    rng = np.random.default_rng(3)
    W = np.where(rng.random((60, 60)) < 0.05, rng.uniform(-1, 1, (60, 60)), 0.0)
    A = np.ones(60)
    for _ in range(4):
        A = 1.0 / (1.0 + np.exp(-(A + A @ W)))
    got = run(W, np.ones(60), SimulationConfig(rule="mkosko", max_iter=4)).state
    assert got == pytest.approx(A, abs=1e-12)
