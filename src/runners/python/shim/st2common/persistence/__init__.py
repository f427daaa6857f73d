"""st2common.persistence: st2's database models; see squall_shim.not_in_squall."""
