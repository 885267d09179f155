"""Secrets found by what a file holds (detect-secrets, in this process), shown by file,
line and kind, never by value; a lock's digests are not secrets."""

from __future__ import annotations

from pathlib import Path

from noxgrid.model.context import context_files, ignore_patterns, ignored
from noxgrid.model.image import DOCKERIGNORE, AppTree, tree_problems
from noxgrid.model.secrets import (
    SecretFinding,
    is_named_digest,
    is_python_lock,
    secrets_problem,
    text_key,
)
from noxgrid.tools.secrets import scan_files, scan_texts

# Built from pieces, so that this file holds no token a scanner would stop at.
GITHUB = "ghp_" + "a1B2c3D4e5" * 3 + "F6g7H8"
AWS = "AKIA" + "IOSFODNN7" + "QWERTYU"
JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9."
    "eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdCJ9."
    "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"
)
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def test_the_three_secret_files_are_found_by_file_line_and_kind():
    found = scan_texts(
        {
            ".kube/config": f"apiVersion: v1\nusers:\n- name: ci\n  user:\n    token: {JWT}\n",
            "token.txt": GITHUB + "\n",
            "aws_keys.txt": f"[default]\naws_access_key_id = {AWS}\n",
            "src/app.py": "def main():\n    return 1\n",
        }
    )
    assert found == [
        SecretFinding(".kube/config", 5, "JSON Web Token"),
        SecretFinding("aws_keys.txt", 2, "AWS Access Key"),
        SecretFinding("token.txt", 1, "GitHub Token"),
    ]


def test_more_kinds_are_found():
    private = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH"
    slack = "xoxb-" + "1234567890-1234567890-" + "abcdefghijABCDEFGHIJabcd"
    gitlab = "glpat-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn"
    found = scan_texts(
        {
            "deploy/notes.txt": private + "\n",
            "slack.cfg": f"webhook_token = {slack}\n",
            "gitlab.txt": gitlab + "\n",
            "settings.py": 'DATABASE_PASSWORD = "hunter2-Xy9#q"\n',
        }
    )
    kinds = {finding.path: finding.kind for finding in found}
    assert kinds["deploy/notes.txt"] == "Private Key"
    assert kinds["slack.cfg"] == "Slack Token"
    assert kinds["gitlab.txt"] == "GitLab Token"
    assert kinds["settings.py"] == "Secret Keyword"


def test_an_empty_env_file_and_a_locks_digests_are_not_secrets():
    assert scan_texts({".env": ""}) == []
    assert (
        scan_texts(
            {
                "pylock.toml": f'hashes = {{ sha256 = "{DIGEST}" }}\n',
                "requirements.txt": f"numpy==2.0 --hash=sha256:{DIGEST}\n",
                "uv.lock": f'url = "https://files.pythonhosted.org/packages/{DIGEST}/x.whl"\n',
            }
        )
        == []
    )
    assert scan_texts({"app.py": f'SIGNING = "{DIGEST}"\n'}), "an unnamed hex string still counts"


def test_a_lock_is_scanned_for_all_but_its_digests_entropy():
    lock = (
        'packages = [{ name = "x", index = "https://user:s3cr3tt0ken@pypi.example.org/simple" }]\n'
        f'hashes = {{ sha256 = "{DIGEST}" }}\n'
        f'url = "https://files.pythonhosted.org/packages/{DIGEST}/x.whl"\n'
    )
    for name in ("pylock.toml", "uv.lock", "requirements/locks/pylock.py311-cpu-lean.toml"):
        found = scan_texts({name: lock})
        assert [f.render() for f in found] == [f"{name}:1 (Basic Auth Credentials)"], found
        assert all("s3cr3t" not in f.render() for f in found)
    token = scan_texts({"uv.lock": f"# token = '{GITHUB}'\n"})
    assert [f.kind for f in token] == ["GitHub Token"], "only entropy hits are a lock's digests"


def test_the_reference_services_committed_locks_scan_clean():
    root = Path(__file__).resolve().parents[3] / "examples" / "service"
    locks = sorted(p.relative_to(root).as_posix() for p in root.glob("requirements/locks/*.toml"))
    assert len(locks) >= 12
    assert scan_files(root, locks) == []


def test_a_finding_never_shows_the_secret():
    (finding,) = scan_texts({"token.txt": f"x = 1\ntoken = '{GITHUB}'\n"})
    problem = secrets_problem([finding], "the image's /app")
    assert problem is not None
    assert "token.txt:2 (GitHub Token)" in problem
    assert GITHUB not in problem and GITHUB[4:12] not in problem
    assert "rotate" in problem and ".dockerignore" in problem
    assert secrets_problem([], "x") is None


def test_the_filters_name_locks_and_digests_only():
    assert is_python_lock("requirements/locks/pylock.py311-cpu-lean.toml")
    assert is_python_lock("uv.lock") and not is_python_lock("settings.toml")
    assert is_named_digest(DIGEST, f"--hash=sha256:{DIGEST}")
    assert is_named_digest(DIGEST, f'sha256 = "{DIGEST}"')
    assert not is_named_digest(DIGEST, f"key = {DIGEST}")
    assert not is_named_digest("not-hex", "sha256:not-hex")


def test_the_build_context_is_what_dockerignore_lets_through(tmp_path):
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(f"token: {JWT}\n")
    (tmp_path / "token.txt").write_text(GITHUB + "\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "credentials.py").write_text("def load():\n    return None\n")
    (tmp_path / "empty.txt").write_text("")
    patterns = ignore_patterns("# comment\n/.git/\n\n**/.kube\n*credentials*\n")
    assert patterns == [".git", "**/.kube", "*credentials*"]
    context = context_files(tmp_path, patterns)
    assert sorted(context.files) == ["src/credentials.py", "token.txt"]
    assert not context.truncated
    found = scan_files(tmp_path, context.files)
    assert [f.render() for f in found] == ["token.txt:1 (GitHub Token)"]


def test_dockerignore_patterns_match_as_docker_reads_them():
    assert ignored("aws_credentials.json", ["*credentials*"])
    assert not ignored("src/credentials.py", ["*credentials*"]), "`*` never crosses a /"
    assert ignored("docs/build/x.html", ["docs/build"]), "a folder stands for its contents"
    assert ignored("a/b/.kube/config", ["**/.kube"])
    assert not ignored("x.txt", ["!x.txt"])
    assert ignored("zz/state.sqlite3", DOCKERIGNORE), "the default keeps out nested databases"
    assert ignored(".kube/config", DOCKERIGNORE) and ignored(".gcp/key.json", DOCKERIGNORE)
    assert ignored(".docker/config.json", DOCKERIGNORE)


def test_the_default_dockerignore_keeps_credentials_out_at_any_depth():
    for path in (
        "aws_credentials.json",
        "sub/my_credentials.json",
        "deploy/gcp/service_credentials.json",
        "a/b/.kube/config",
        "sub/.docker/config.json",
        "x/y/.gcp/key.json",
    ):
        assert ignored(path, DOCKERIGNORE), path
    assert not ignored("src/notes.txt", DOCKERIGNORE)


def test_a_python_module_named_for_credentials_is_code_let_back_in():
    assert "!**/*credentials*.py" in DOCKERIGNORE, "google-auth's credentials.py is code"

    def tree(path):
        entry = {"p": path, "u": 0, "g": 0, "m": 0o100644, "z": 10}
        return AppTree(uid=10001, gid=10001, entries=(entry,))

    kept = tree_problems(tree("src/app/credentials.py"))
    assert kept == [], "found by its content if it holds a secret, never by its name"
    found = tree_problems(tree("sub/my_credentials.json"))
    assert found and "sub/my_credentials.json (a secret by its name)" in found[0]


def test_detect_secrets_own_filters_still_apply():
    line = 'api_key = "s3cret-Value-9"'
    assert scan_texts({"conf.py": line + "\n"}), "a keyword assignment is found"
    assert scan_texts({"conf.py": line + "  # pragma: allowlist secret\n"}) == []
    assert scan_texts({"conf.py": 'password = "${DB_PASSWORD}"\n'}) == [], "a template"


def test_a_file_read_clean_in_the_context_is_known_by_path_and_bytes():
    assert text_key("app/settings.py", b"x = 1\n") != text_key("settings.py", b"x = 1\n")
    assert text_key("app/settings.py", b"x = 1\n") == text_key("app/settings.py", b"x = 1\n")
    assert text_key("settings.py", b"x = 1\n") != text_key("settings.py", b"x = 2\n")
    assert text_key("a.yaml", b"x") != text_key("a.txt", b"x"), "the name picks the reading"


def test_a_project_in_a_folder_named_swagger_is_still_read(tmp_path):
    root = tmp_path / "swagger-petstore"
    root.mkdir()
    (root / "conf.py").write_text('aws_key = "AKIA' + 'IOSFODNN7EXAMPLE"\n')
    found = scan_files(root, ["conf.py"])
    assert [(f.path, f.kind) for f in found] == [("conf.py", "AWS Access Key")]
    (root / "swagger").mkdir()
    (root / "conf.py").rename(root / "swagger" / "conf.py")
    assert scan_files(root, ["swagger/conf.py"]) == [], "detect-secrets' own filter, kept"
