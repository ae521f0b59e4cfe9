"""The local worker pool: a zygote that imported Scapy once (`zygote`) forks warm workers, which
the broker adopts and watches by pid (`local`, `procctl`); `cpus` sizes it."""
