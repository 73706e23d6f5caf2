"""The page's words in English and Bahasa Indonesia, by key."""

from __future__ import annotations

from typing import Any

from kube_sim.common import keys
from kube_sim.model.agents.group import GroupTable
from kube_sim.model.tables import Column

LANGUAGES: dict[str, str] = {"en": "English", "id": "Bahasa Indonesia"}
"""Language codes and their names."""

LABELS: dict[str, tuple[str, str]] = {
    # page
    "title": ("KUBE in the classroom", "KUBE di kelas"),
    "subtitle": ("Joint business groups in {district}, month by month",
                 "Kelompok Usaha Bersama di {district}, bulan demi bulan"),
    "language": ("Language", "Bahasa"),
    "mode_single": ("One district", "Satu kabupaten"),
    "mode_compare": ("Side by side", "Berdampingan"),
    "month": ("Month", "Bulan"),
    "projector": ("Projector", "Proyektor"),
    # controls
    "controls": ("Policy", "Kebijakan"),
    "scenario": ("Starting scenario", "Skenario awal"),
    "district_choice": ("District (kabupaten)", "Kabupaten"),
    keys.CASELOAD: ("Groups per facilitator", "Kelompok per pendamping"),
    keys.HOURS: ("Facilitator hours per month", "Jam pendamping per bulan"),
    keys.PATTERN: ("Mentoring pattern", "Pola pendampingan"),
    keys.EQUIPMENT: ("Equipment grant (Rp juta per group)", "Bantuan sarana (Rp juta per kelompok)"),
    keys.INACTIVE_SHARE: ("Inactive members at start (share)", "Anggota tidak aktif di awal (proporsi)"),
    keys.UEP_PER_MEMBER: ("UEP grant (Rp juta per member)", "Bantuan UEP (Rp juta per anggota)"),
    "seed": ("Seed", "Benih acak (seed)"),
    "play_until": ("Play to {month}", "Jalankan sampai {month}"),
    "pause": ("Pause", "Jeda"),
    "step": ("Step", "Langkah"),
    "reset": ("Reset", "Ulang"),
    "speed": ("Speed (months per second)", "Kecepatan (bulan per detik)"),
    "play_to": ("Play to month", "Jalankan sampai bulan"),
    "scenario_values": ("Back to the scenario's values", "Kembali ke nilai skenario"),
    "changed": ("{name} (changed)", "{name} (diubah)"),
    "round_robin": ("round robin", "bergiliran"),
    "needs_based": ("needs based", "sesuai kebutuhan"),
    "targets": ("with targets", "dengan target"),
    # district
    "district": ("The district", "Kabupaten"),
    "district_help": ("Each box is a kecamatan (sub-district) and each small box in it a village (desa); each chip "
                      "is a group (kelompok), labelled with its facilitator and marked by its state (◔ training, "
                      "! conflict, ✕ failed). A red ring marks a group no facilitator has visited for a quarter. "
                      "Click a group for its story.",
                      "Setiap kotak adalah kecamatan dan setiap kotak kecil di dalamnya sebuah desa; setiap keping "
                      "adalah kelompok, bertanda pendampingnya dan keadaannya (◔ pelatihan, ! konflik, ✕ bubar). "
                      "Cincin merah menandai kelompok yang tidak dikunjungi pendamping selama tiga bulan. "
                      "Klik kelompok untuk melihat kisahnya."),
    "remote": ("remote", "terpencil"),
    "village_n": ("Village {n}", "Desa {n}"),
    "training": ("training", "pelatihan"),
    "active": ("active", "aktif"),
    "conflict": ("in conflict", "konflik"),
    "failed": ("failed", "bubar"),
    "unvisited": ("unvisited", "tak dikunjungi"),
    "caseloads": ("Facilitators' caseloads", "Beban kerja pendamping"),
    "caseload_row": ("groups", "kelompok"),
    "no_groups": ("No group funded yet: step the model.", "Belum ada kelompok yang didanai: jalankan model."),
    # charts
    "charts": ("Over time", "Dari waktu ke waktu"),
    "groups_running": ("Groups running", "Kelompok berjalan"),
    "survival": ("Survival since funding", "Kelangsungan sejak pendanaan"),
    "survival_at": ("Survival since funding, at {months} months", "Kelangsungan sejak pendanaan, pada {months} bulan"),
    "income_per_member_rp": ("Income per member (Rp/month)", "Pendapatan per anggota (Rp/bulan)"),
    "visits": ("Facilitator visits per month", "Kunjungan pendamping per bulan"),
    "share_unvisited_quarter": ("Share of groups unvisited for a quarter", "Proporsi kelompok tak dikunjungi 3 bulan"),
    "cost_to_date_rp": ("Cost to date (Rp juta)", "Biaya sampai saat ini (Rp juta)"),
    "months_since_funding": ("months since funding", "bulan sejak pendanaan"),
    "latest": ("Latest values", "Nilai terakhir"),
    # story
    "story": ("A group's story", "Kisah kelompok"),
    "story_help": ("Click a group in the district to read its story.",
                   "Klik sebuah kelompok di kabupaten untuk membaca kisahnya."),
    "group": ("Group", "Kelompok"),
    "state": ("State", "Keadaan"),
    "cattle": ("cattle fattening", "penggemukan sapi"),
    "nursery": ("nursery", "pembibitan"),
    "kiosk": ("village kiosk", "warung desa"),
    "members_active": ("Members active (of those at the start)", "Anggota aktif (dari anggota awal)"),
    "members_inactive": ("Members inactive, still in the group", "Anggota tidak aktif, masih dalam kelompok"),
    "members_left": ("Members gone (left, or the group failed)", "Anggota keluar (mundur, atau kelompok bubar)"),
    "members": ("Members (anggota)", "Anggota"),
    "member_active": ("active", "aktif"),
    "member_inactive": ("inactive", "tidak aktif"),
    "member_left": ("gone", "keluar"),
    "events": ("What happened", "Apa yang terjadi"),
    "why_failed": ("Why it failed", "Mengapa bubar"),
    # event kinds
    "funded": ("funded: UEP grant", "didanai: bantuan UEP"),
    "business_start": ("business starts (units bought)", "usaha dimulai (unit dibeli)"),
    "visit": ("facilitator visit", "kunjungan pendamping"),
    "mediated": ("facilitator settled the conflict", "pendamping menyelesaikan konflik"),
    "escalated": ("conflict passed to the agency", "konflik diteruskan ke Dinas Sosial"),
    "agency_settled": ("agency settled the conflict", "Dinas Sosial menyelesaikan konflik"),
    "self_settled": ("members settled the conflict", "anggota menyelesaikan konflik sendiri"),
    "sale": ("sale", "penjualan"),
    "payout": ("profit shared", "bagi hasil"),
    "equipment_purchase": ("equipment bought from savings", "sarana dibeli dari tabungan"),
    "equipment_grant": ("equipment grant", "bantuan sarana"),
    "follow_up_support": ("follow-up support", "bantuan lanjutan"),
    "failure": ("group failed", "kelompok bubar"),
    "village_head_settled": ("village head settled the conflict", "kepala desa menyelesaikan konflik"),
    "complaint": ("members complained to the agency", "anggota mengadu ke Dinas Sosial"),
    # failure causes
    "cause_none": ("-", "-"),
    "cause_conflict": ("a conflict left unsettled too long", "konflik yang terlalu lama tidak terselesaikan"),
    "cause_inactive_members": ("too few active members", "terlalu sedikit anggota aktif"),
    "cause_low_cohesion": ("the group fell apart", "kelompok tidak kompak lagi"),
    "cause_no_capital": ("no capital left", "modal habis"),
    # side by side
    "arm_a": ("Arm A", "Lengan A"),
    "arm_b": ("Arm B", "Lengan B"),
    "presets": ("Compare", "Bandingkan"),
    "preset_staff": ("1:10 vs 1:5 facilitators", "pendamping 1:10 vs 1:5"),
    "preset_equipment": ("no equipment grant vs grant", "tanpa vs dengan bantuan sarana"),
    "compare_help": ("Both arms use the same seed and step together: where they differ, the policy made the "
                     "difference.",
                     "Kedua lengan memakai seed yang sama dan berjalan bersama: perbedaannya berasal dari kebijakan."),
    "replicate": ("Run 20 paired replications", "Jalankan 20 replikasi berpasangan"),
    "replicating": ("Running replications", "Menjalankan replikasi"),
    "replications": ("Difference B - A over 20 paired replications (95% interval)",
                     "Selisih B - A dari 20 replikasi berpasangan (interval 95%)"),
    "months_run": ("Months per replication", "Bulan per replikasi"),
    "outcome": ("Outcome", "Hasil"),
    "difference": ("B - A", "B - A"),
    "pp": ("pp", "poin persen"),
    "interval": ("95% interval", "interval 95%"),
    "survival_12": ("Survival since funding, at 12 months", "Kelangsungan sejak pendanaan, pada 12 bulan"),
    "survival_24": ("Survival since funding, at 24 months", "Kelangsungan sejak pendanaan, pada 24 bulan"),
    "groups_active_end": ("Groups running at the end", "Kelompok berjalan di akhir"),
    "mean_member_income_rp": ("Income per member-month (Rp)", "Pendapatan per anggota-bulan (Rp)"),
    "share_income_to_eligible": ("Share of group income going to eligible (poor) members",
                                 "Proporsi pendapatan kelompok untuk anggota layak (miskin)"),
    "mean_share_unvisited_quarter": ("Share unvisited for a quarter", "Proporsi tak dikunjungi 3 bulan"),
    "cost_per_surviving_group_rp": ("Cost per surviving group (Rp)", "Biaya per kelompok bertahan (Rp)"),
    "out_of_date": ("Out of date: the arms, the seed, the months or the district changed since these replications "
                    "ran. Press Run to see the numbers for the current choice.",
                    "Sudah tidak berlaku: lengan, seed, jumlah bulan atau kabupaten berubah sejak replikasi ini "
                    "dijalankan. Tekan Jalankan untuk melihat angka pilihan sekarang."),
    "save_charts": ("Save charts (PNG)", "Simpan grafik (PNG)"),
    "save_csv": ("Save table (CSV)", "Simpan tabel (CSV)"),
    "save_xlsx": ("Save table (Excel)", "Simpan tabel (Excel)"),
    "clear_difference": ("clear difference", "beda nyata"),
    "no_clear_difference": ("could be noise", "bisa kebetulan"),
}
"""Words by key: ``(English, Bahasa Indonesia)``; a group's state takes its words from its column (below)."""

STATE_COLUMNS: dict[str, Column[Any]] = {
    "kecamatan": GroupTable.kecamatan,
    "village": GroupTable.village,
    "business": GroupTable.business,
    "facilitator": GroupTable.facilitator,
    "funded_month": GroupTable.funded_month,
    "cash": GroupTable.cash,
    "stock": GroupTable.units,
    "equipment": GroupTable.equipment,
    "conflicts": GroupTable.conflicts,
    "visits_total": GroupTable.visits,
    "cohesion": GroupTable.cohesion,
}
"""Label keys of the page that name a column of the group table: its label and ``label_id`` are the words."""

LABELS.update({key: (column.label, column.label_id) for key, column in STATE_COLUMNS.items()})


def label(key: str, language: str = "en") -> str:
    """Return the words for ``key`` in ``language`` (the key itself when there are none).

    Args:
        key: Label key.
        language: ``"en"`` or ``"id"``.

    Returns:
        The words.
    """
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if language == "id" else pair[0]
