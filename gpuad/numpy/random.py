"""`gnp.random`: NumPy's random API on the default backend, with a state you can save and restore.

The draws and the state are in sampling.py (its docstring says how the state works and which
distributions are differentiable); `RandomState`, NumPy's legacy generator class, is in
random_state.py, and `default_rng`'s `Generator`, NumPy's current one, in generator.py. This
module only gathers them, so that none of them imports another's namespace.

    >>> gnp.random.seed(0)
    >>> state = gnp.random.get_state()
    >>> a = gnp.random.normal(size=3)
    >>> gnp.random.set_state(state)
    >>> bool((gnp.random.normal(size=3) == a).all())
    True
"""
from .generator import Generator, default_rng  # noqa: F401
from .random_state import RandomState  # noqa: F401
from .sampling import (  # noqa: F401
    bernoulli,
    beta,
    binomial,
    bytes,
    chisquare,
    choice,
    dirichlet,
    exponential,
    f,
    gamma,
    geometric,
    get_all_states,
    get_state,
    gumbel,
    hypergeometric,
    integers,
    laplace,
    logistic,
    lognormal,
    logseries,
    multinomial,
    multivariate_normal,
    negative_binomial,
    noncentral_chisquare,
    noncentral_f,
    normal,
    pareto,
    permutation,
    poisson,
    power,
    rand,
    randint,
    randn,
    random,
    random_sample,
    ranf,
    rayleigh,
    refuse_traced,
    register,
    sample,
    seed,
    set_all_states,
    set_state,
    shuffle,
    standard_cauchy,
    standard_exponential,
    standard_gamma,
    standard_normal,
    standard_t,
    triangular,
    uniform,
    vonmises,
    wald,
    weibull,
    zipf,
)
