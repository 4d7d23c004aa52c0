"""The one table of limits: every place that names a limit takes it from LIMIT_SETTINGS."""

from __future__ import annotations

import pytest

from looplens.cli import _parser
from looplens.config import LooplensConfig, site_limits
from looplens.fences.collect import collect_snippets
from looplens.limits import LIMIT_SETTINGS, LimitError, LimitOverrides, Limits, LimitSetting


def test_the_settings_defaults_are_the_limits_defaults() -> None:
    config = LooplensConfig()
    config.load_dict({})
    assert config.validate() == ([], [])
    assert site_limits(config) == Limits()


@pytest.mark.parametrize("setting", LIMIT_SETTINGS, ids=lambda setting: setting.field)
def test_each_limit_is_a_fence_option_a_flag_and_a_setting(setting: LimitSetting) -> None:
    raised = {s.field: s.raised(getattr(Limits(), s.field)) for s in LIMIT_SETTINGS}
    field, option = setting.field, setting.option
    page = f"```js {{#x .trace {option}={raised[field]}}}\nconsole.log(1);\n```\n"
    [snippet] = collect_snippets(page, "docs/p.md", [])
    fence_value = getattr(snippet.limits, field)
    assert fence_value is not None and fence_value > getattr(Limits(), field)
    flags = _parser().parse_args(["trace", "x.js", f"--{option}", raised[field]])
    assert getattr(flags, option) == raised[field]
    config = LooplensConfig()
    # mkdocs.yml writes seconds and counts as numbers, sizes as text or bytes.
    given = raised[field] if setting.kind == "size" else fence_value
    config.load_dict({setting.config: given})
    assert config.validate() == ([], [])
    assert getattr(site_limits(config), field) == fence_value


def test_a_fence_overrides_only_what_it_sets() -> None:
    site = Limits(timeout_s=3)
    assert LimitOverrides(memory_bytes=1 << 30).over(site) == Limits(3, memory_bytes=1 << 30)
    assert LimitOverrides().over(site) == site


def test_a_breach_message_names_the_fence_option_and_the_setting() -> None:
    error = LimitError.of(
        "output_bytes", Limits(output_bytes=10 << 10), "x printed more than {limit}"
    )
    assert str(error) == (
        "x printed more than 10KB (the output limit); the run was ended. To raise it, give the "
        "fence output=20KB or set 'max_output' of the looplens plugin in mkdocs.yml"
    )
    located = error.located("docs/a.md:3: snippet 'x'")
    assert (
        located.happened == "docs/a.md:3: snippet 'x': x printed more than 10KB (the output limit)"
    )
    assert (located.limit, located.higher) == ("output_bytes", "20KB")
