"""st2's database, as far as pack code reaches it: a pack's registered records.

st2's ``packs.unload`` action (contrib/packs/actions/pack_mgmt/unload.py) connects to st2's
MongoDB with ``db_setup`` and deletes a pack's records through ``st2common.persistence`` classes:
``SensorType.get_all(pack=…)``, ``Pack.get_by_ref(…)``, ``Rule.query(trigger=…, pack__ne=…)``,
``<Model>.delete(db_obj)``. In Squall those records live in Squall's store, behind its API; the
persistence stand-ins below send the same calls over the runner channel (``pack_records``,
``pack_record_delete``), and the runner makes them on the API as the execution's user.

A pack's records are read once per process and kept up to date with the deletes made through
them, so a run sees its own changes as st2's code expects (Squall keeps the config schema and
config inside the pack record, which st2 deletes after the pack).
"""

import squall_shim

__all__ = ["PackRecordModel", "Record"]

_snapshots = {}


class Record(object):
    """A record as st2's ``*DB`` objects show it to pack code: ``id``, ``ref``, ``name``, ``pack``…"""

    def __init__(self, model, data):
        self.__dict__.update(data)
        self._model = model

    def __repr__(self):
        return "%sDB(id=%r, ref=%r, pack=%r)" % (
            self._model, getattr(self, "id", None), getattr(self, "ref", None), getattr(self, "pack", None)
        )

    __str__ = __repr__


def _snapshot(pack):
    if pack not in _snapshots:
        data = squall_shim.call("pack_records", pack=pack) or {}
        records = data.get("records") or {}
        _snapshots[pack] = {
            "records": {model: [Record(model, r) for r in items] for model, items in records.items()},
            "dependent_rules": [Record("Rule", r) for r in data.get("dependent_rules") or []],
        }
    return _snapshots[pack]


def _matches(record, filters):
    for key, want in filters.items():
        field, _, op = key.partition("__")
        have = getattr(record, field, None)
        if op == "" and have != want:
            return False
        if op == "ne" and have == want:
            return False
        if op == "in" and have not in want:
            return False
        if op not in ("", "ne", "in"):
            raise NotImplementedError("the query operator __%s is not supported by Squall's st2 persistence shim" % op)
    return True


def _not_found(model, field, value):
    from st2common.exceptions.db import StackStormDBObjectNotFoundError

    return StackStormDBObjectNotFoundError("Unable to find the %sDB instance. %s=%s" % (model, field, value))


class PackRecordModel(squall_shim.St2DatabaseModel):
    """``st2common.persistence.<Model>`` for a pack's records: reads and deletes by pack."""

    @classmethod
    def _model(cls):
        return cls.__name__

    @classmethod
    def _of_pack(cls, pack):
        return list(_snapshot(pack)["records"].get(cls._model(), []))

    @classmethod
    def query(cls, **filters):
        pack = filters.get("pack")
        if isinstance(pack, str):
            return [r for r in cls._of_pack(pack) if _matches(r, filters)]
        other = filters.get("pack__ne")
        trigger = filters.get("trigger")
        if cls._model() == "Rule" and isinstance(other, str) and isinstance(trigger, str):
            # The rules of other packs that use a trigger type of pack `other` (st2's unload warns about them).
            return [r for r in _snapshot(other)["dependent_rules"] if _matches(r, filters)]
        raise NotImplementedError(
            squall_shim._not_in_squall_message(
                "%s.query(%s)" % (cls._model(), ", ".join(sorted(filters))), "the Squall API (ST2_ACTION_API_URL)"
            )
        )

    get_all = query

    @classmethod
    def count(cls, **filters):
        return len(cls.query(**filters))

    @classmethod
    def _get_one(cls, pack, field, value):
        for record in cls._of_pack(pack):
            if getattr(record, field, None) == value:
                return record
        raise _not_found(cls._model(), field, value)

    @classmethod
    def get_by_ref(cls, value):
        # A pack's ref is its own; any other ref is PACK.NAME, split at its first dot.
        pack = value if cls._model() in ("Pack", "ConfigSchema", "Config") else value.split(".", 1)[0]
        return cls._get_one(pack, "ref", value)

    @classmethod
    def get_by_name(cls, value):
        if cls._model() == "Pack":
            return cls._get_one(value, "name", value)
        raise NotImplementedError(
            squall_shim._not_in_squall_message("%s.get_by_name" % cls._model(), "%s.get_by_ref" % cls._model())
        )

    @classmethod
    def get_by_pack(cls, value):
        return cls._get_one(value, "pack", value)

    @classmethod
    def delete(cls, model_object, publish=True, dispatch_trigger=True):
        pack = getattr(model_object, "pack", None)
        squall_shim.call("pack_record_delete", pack=pack, model=cls._model(), id=str(model_object.id))
        kept = _snapshots.get(pack, {}).get("records", {}).get(cls._model())
        if kept is not None:
            kept[:] = [r for r in kept if r.id != model_object.id]
        return model_object
