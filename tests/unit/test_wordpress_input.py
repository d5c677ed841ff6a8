"""WordPress commands' input, checked before anything reaches the engine."""

import pytest

from hakobune.errors import InvalidInput
from hakobune.ops.lifecycle import check_service
from hakobune.ops.wordpress import check_new_user, check_search_replace


def test_services_are_checked_with_a_hint():
    assert check_service("php") == "php"
    with pytest.raises(InvalidInput, match=r"unknown service 'wbe' \(hint: did you mean web\?\)"):
        check_service("wbe")
    with pytest.raises(InvalidInput, match=r"hint: services: web, php, db"):
        check_service("ops")  # a one-shot container, not a service to restart or read logs of


def test_wordpress_input_is_checked_before_the_ops_container_starts():
    check_new_user("editor.1", "ed@example.com", "long-enough")
    with pytest.raises(InvalidInput, match="LOGIN 'bad login' is not valid"):
        check_new_user("bad login", "ed@example.com", "long-enough")
    with pytest.raises(InvalidInput, match="needs a non-empty OLD"):
        check_search_replace("", "new")
    with pytest.raises(InvalidInput, match="OLD and NEW are the same"):
        check_search_replace("a", "a")


def test_exec_without_a_command_is_a_usage_error(capsys):
    from hakobune.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["exec", "php", "--"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: exec needs a command (hint: e.g. hakobune exec php -- php -v)\n"
