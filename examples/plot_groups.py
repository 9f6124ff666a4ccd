"""
Categorical variables: keep or drop all their columns together
==============================================================

The Palmer penguins data (`palmerpenguins <https://pypi.org/project/palmerpenguins/>`_,
shipped inside the package) describe 333 penguins, once the rows with missing values
are dropped: three categorical variables (``species``, ``island`` and the ``year`` of
the measurement) and four body measurements. The task is to predict a penguin's sex.

One-hot encoding turns each categorical variable into one column per level, 13
columns in all. An L1 penalty prices each column separately, so it may keep one
dummy column of a variable and drop the others, which leaves the question "does the
model use ``species``?" without an answer. With ``groups=feature_groups(pre)`` an
L0 estimator gives the columns that come from one input variable a single gate:
each variable is kept whole or dropped whole, and it costs its number of columns.
``penalty_factor=0`` then keeps a chosen variable in every model.
"""

# %%
# The data and the preprocessing
# ------------------------------
# The preprocessor is fitted once on the training set to read the output columns:
# :func:`~sklearn_l0.feature_groups` names the input variable of each of them. The
# pipelines below fit it again on the same rows, so the columns are the same.
import matplotlib.pyplot as plt
import numpy as np
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_l0 import L0Classifier, feature_groups

penguins = load_penguins().dropna()
penguins["year"] = penguins["year"].astype(str)  # three survey years, as categories
categorical = ["species", "island", "year"]
numeric = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
X, y = penguins[categorical + numeric], penguins["sex"]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

pre = ColumnTransformer(
    [("cat", OneHotEncoder(), categorical), ("num", StandardScaler(), numeric)],
    verbose_feature_names_out=False,
)
pre.fit(X_train)
columns = pre.get_feature_names_out()
groups = feature_groups(pre)
variables = list(dict.fromkeys(groups))  # in the order of the columns
for variable in variables:
    print(f"{variable:<18s} <- {', '.join(columns[groups == variable])}")


def report(name, model):
    """Print how many columns of each input variable a fitted pipeline uses, and its accuracy."""
    coef = model[-1].coef_.ravel()
    print(f"{name}: test accuracy {model.score(X_test, y_test):.3f}")
    for variable in variables:
        in_variable = groups == variable
        kept = columns[in_variable & (coef != 0)]
        if kept.size == 0:
            status = "dropped"
        elif kept.size == in_variable.sum():
            status = "kept"
        else:
            status = "part: " + ", ".join(kept)
        print(f"    {variable:<18s} {kept.size} of {in_variable.sum()} columns, {status}")


# %%
# L1-penalized logistic regression
# --------------------------------
# The strength ``C`` is chosen by 5-fold cross-validation on the log-loss.
lasso_logistic = LogisticRegression(l1_ratio=1.0, solver="saga", max_iter=10_000, random_state=0)
search = GridSearchCV(
    make_pipeline(pre, lasso_logistic),
    {"logisticregression__C": np.logspace(-2, 1, 20)},
    scoring="neg_log_loss",
)
l1 = search.fit(X_train, y_train).best_estimator_
report(f"L1 logistic regression, C={l1[-1].C:.3g}", l1)

# %%
# The L1 model keeps one of the three ``species`` columns: it tells Adelie penguins
# from the two other species, which it lumps together. It keeps two of the three
# ``year`` columns, which with the intercept carry all of ``year``. To know which
# variables the model uses, one has to read its dummy columns one by one.
#
# L0 with one gate per input variable
# -----------------------------------
# ``alpha="bic"`` lets one fit minimise the Bayesian information criterion, in which
# a variable costs its number of coefficients: 3 for ``species``, 1 for a
# measurement.
l0 = make_pipeline(pre, L0Classifier(alpha="bic", groups=groups, device="cpu", random_state=0))
l0.fit(X_train, y_train)
report("L0Classifier(alpha='bic', groups=groups)", l0)
print("groups_[group_support_]:", ", ".join(l0[-1].groups_[l0[-1].group_support_]))

# %%
# Always keep a variable
# ----------------------
# Males are larger than the females of their own species, but a male Adelie penguin
# is on average lighter than a female Gentoo: the measurements are easier to read once
# the species is known. At a high price (``alpha=0.1`` nats of log-loss per column) the L0 model
# drops ``species``; ``penalty_factor=0`` on its columns makes it free, so it stays
# in the model while the other variables are priced as before.
strong = make_pipeline(pre, L0Classifier(alpha=0.1, groups=groups, device="cpu", random_state=0))
strong.fit(X_train, y_train)
report("L0Classifier(alpha=0.1, groups=groups)", strong)

always_species = np.where(groups == "species", 0.0, 1.0)
forced = make_pipeline(
    pre,
    L0Classifier(
        alpha=0.1, groups=groups, penalty_factor=always_species, device="cpu", random_state=0
    ),
)
forced.fit(X_train, y_train)
report("L0Classifier(alpha=0.1, groups=groups, species always kept)", forced)

# %%
# Coefficients of the dummy and numeric columns
# ---------------------------------------------
# Each bar is one column of the preprocessed data, coloured by the variable it
# comes from; a cross marks a coefficient that is exactly zero. The coefficients
# are the log-odds of "male" per unit of the column (present/absent for a dummy
# column, one standard deviation for a measurement).
models = {
    "L1 logistic regression": l1,
    "L0, BIC, groups": l0,
    "L0, alpha=0.1, groups": strong,
    "L0, alpha=0.1, species always kept": forced,
}
colors = dict(zip(variables, plt.cm.tab10.colors, strict=False))
position = np.arange(len(columns))[::-1]
fig, axes = plt.subplots(1, len(models), figsize=(12, 4.5), sharex=True, sharey=True)
for ax, (name, model) in zip(axes, models.items(), strict=True):
    coef = model[-1].coef_.ravel()
    ax.barh(position, coef, color=[colors[g] for g in groups])
    zero = coef == 0
    ax.plot(np.zeros(zero.sum()), position[zero], "x", color="0.4", ms=5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_title(name, fontsize=10)
    ax.set_xlabel("coefficient (log-odds of male)")
axes[0].set_yticks(position, labels=columns)
fig.suptitle("Predicting a penguin's sex: which columns each model uses")
fig.tight_layout()
plt.show()

# %%
# The L0 models switch a categorical variable on or off as a whole. ``island`` and
# ``year`` add too little to the measurements and the species to pay for their three
# columns each, so they are dropped with all their columns, and the models that keep
# ``species`` use all three of its dummy columns. Forcing ``species`` in at the high price also
# brings back the bill length: males have longer bills than the females of their own
# species, but Chinstrap and Gentoo penguins have much longer bills than Adelie
# penguins, so the bill length tells the sexes apart only once the species is known.
# ``support_`` is per column, ``group_support_`` per variable (in the order of
# ``groups_``).
