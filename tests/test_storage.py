"""crm.storage: the same behaviour from the local folder and from a real S3-compatible server."""
import io

import pytest

from crm.storage import FileMissing, LocalStorage, check_key, make_storage
from tests.s3_server import s3_store  # noqa: F401  (fixture)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return make_storage({"INSTANCE_PATH": str(tmp_path / "instance"), "ATTACHMENTS_DIR": str(tmp_path / "att")})
    url, _env = request.getfixturevalue("s3_store")
    return make_storage({"STORAGE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance")})


def test_put_get_open_list_delete(store):
    store.put("models/sign-v1.skops", b"model")
    store.put("imports/7/leads.xlsx", io.BytesIO(b"sheet" * 1000))
    store.put("imports/7/rejected-rows.xlsx", b"report")
    store.put("attachments/ab/" + "ab" * 16, b"pdf")
    assert store.get("models/sign-v1.skops") == b"model"
    with store.open("imports/7/leads.xlsx") as fh:
        assert fh.read() == b"sheet" * 1000
    with store.local_path("imports/7/leads.xlsx") as path:
        assert path.suffix == ".xlsx" and path.read_bytes() == b"sheet" * 1000
    assert store.list("imports") == ["imports/7/leads.xlsx", "imports/7/rejected-rows.xlsx"]
    assert store.list("attachments") == ["attachments/ab/" + "ab" * 16]
    assert store.exists("models/sign-v1.skops") and not store.exists("models/land-v1.skops")

    store.put("models/sign-v1.skops", b"model, again")  # replaced whole
    assert store.get("models/sign-v1.skops") == b"model, again"
    store.delete_prefix("imports/7")
    assert store.list("imports") == []
    store.delete("models/sign-v1.skops")
    store.delete("models/sign-v1.skops")  # deleting what is gone is no error (jobs run twice)
    with pytest.raises(FileMissing):
        store.get("models/sign-v1.skops")
    with pytest.raises(FileMissing):
        with store.open("models/nothing.skops"):
            pass


def test_local_attachments_keep_their_own_folder(tmp_path):
    store = make_storage({"INSTANCE_PATH": str(tmp_path / "instance"), "ATTACHMENTS_DIR": str(tmp_path / "att")})
    store.put("attachments/ab/x.pdf", b"pdf")
    store.put("models/m.skops", b"m")
    assert (tmp_path / "att" / "ab" / "x.pdf").read_bytes() == b"pdf"
    assert (tmp_path / "instance" / "models" / "m.skops").read_bytes() == b"m"
    assert isinstance(store, LocalStorage)


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../secret_key", "models/../../x", "models/./x", "a//b/..", "a b"])
def test_keys_cannot_walk_out(key):
    with pytest.raises(ValueError):
        check_key(key)


def test_a_storage_url_that_is_not_s3_is_refused():
    with pytest.raises(RuntimeError, match="s3://bucket/prefix"):
        make_storage({"STORAGE_URL": "ftp://host/x", "INSTANCE_PATH": "/tmp"})
