"""st2common.persistence: st2's database models; see squall_shim.needs_st2_database."""
