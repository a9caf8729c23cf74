"""Item ids: stable across re-extraction and versions, unique in a section, given to old data."""

from agent.interview.pipeline import merge
from agent.profile.models import Evidence, Item, Profile, new_item_id


def _item(text: str, turn: int = 3, quote: str | None = None) -> Item:
    return Item(text=text, evidence=[Evidence(turn=turn, quote=quote or text)])


def test_ids_come_from_the_section_and_where_the_item_was_said():
    a, b = _item("Dentists with 3 to 8 chairs"), _item("Dentists with 3 to 8 chairs")
    assert new_item_id("company_profile", a) == new_item_id("company_profile", b)
    assert new_item_id("company_profile", a) != new_item_id("exclusions", a)
    assert new_item_id("company_profile", a) != new_item_id("company_profile", _item(a.text, 5))
    assert new_item_id("company_profile", a).startswith("company_profile:")


def test_merge_gives_each_new_item_a_unique_id_and_keeps_it():
    profile = Profile()
    first = _item("Agencies", quote="Agencies.")
    twin = _item("Agencies too", quote="Agencies.")
    merge(profile, "exclusions", first)
    merge(profile, "exclusions", twin)
    ids = [i.id for i in profile.sections["exclusions"].items]
    assert len(set(ids)) == 2 and all(ids)
    again = Profile.model_validate(profile.model_dump(mode="json"))
    assert [i.id for i in again.sections["exclusions"].items] == ids


def test_a_profile_stored_before_ids_existed_gets_them_on_load():
    data = Profile().model_dump(mode="json")
    data["sections"]["channels"]["items"] = [
        {"text": "Study clubs", "evidence": [{"turn": 4, "quote": "Study clubs"}]},
        {"text": "Study clubs", "evidence": [{"turn": 4, "quote": "Study clubs"}]},
    ]
    items = Profile.model_validate(data).sections["channels"].items
    assert items[0].id == new_item_id("channels", items[0]) and items[1].id.endswith("-2")


def test_merging_with_the_same_items_index_gives_the_profile_a_scan_gives():
    import random

    from agent.interview.pipeline import SameItems

    rng = random.Random(7)
    words = ["Dentists", "dentists", "3 to 8 chairs", "Ortho groups", "ortho  groups!", "DSOs"]
    plain, indexed, same = Profile(), Profile(), SameItems()
    for turn in range(1, 300):
        key = rng.choice(["company_profile", "exclusions", "unsorted"])
        text = rng.choice(words) + rng.choice(["", ".", f" {turn % 7}"])
        changed = [
            merge(profile, key, _item(text, turn), index)
            for profile, index in ((plain, None), (indexed, same))
        ]
        assert changed[0] == changed[1]
        if turn % 40 == 0:  # a correction filed out of Unsorted: the list shrinks in place
            for profile in (plain, indexed):
                profile.unsorted[:] = profile.unsorted[1:]
    assert plain.model_dump() == indexed.model_dump()
