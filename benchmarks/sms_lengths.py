"""The patient SMS with their own link (issue 24): length in GSM-7 characters and segments, per message kind,
practitioner name and place. Run: PYTHONPATH=$PWD .venv/bin/python benchmarks/sms_lengths.py [PUBLIC_URL]"""
import secrets
import sys
from snp_service import create_app
from snp_service.notify import messages as m
app = create_app({"CONFIG_NAME": "testing"})
url = sys.argv[1] if len(sys.argv) > 1 else "https://snp.cpts-sud-vendee.fr"
link = f"{url}/r/{secrets.token_urlsafe(16)}"
doctors = {"Dr Alex Martin": "Dr Alex Martin", "Dr Hélène Lefèvre-Château": m.to_gsm7("Dr Hélène Lefèvre-Château")}
places = {"office, short address": m.place("office", "12 rue du Port, Saint-Gilles"),
          "office, typical address": m.place("office", m.to_gsm7("12 rue de l’Église, Croix-de-Vie")),
          "teleconsultation": m.place("teleconsultation", None)}
ref = m.reference(123456)
print(f"PUBLIC_URL {url} ({len(url)} chars); link {len(link)} chars; reference '{ref}'")
for kind in ("patient_confirmation", "patient_reminder", "patient_move"):
    for dname, doctor in doctors.items():
        for pname, place in places.items():
            text = m.render_for_patient(kind, when="lun. 15/07 à 14h30", doctor=doctor, place=place, link=link) + ref
            n = m.gsm7_length(text); gsm = m.to_gsm7(text) == text
            segs = 1 if n <= 160 else -(-n // 153)
            kept = "place kept" if place and place.strip(", ") in text else "place left to the page"
            print(f"{kind:22} {dname:27} {pname:24} {n:4} chars, {segs} segment(s), GSM-7={gsm}, {kept}")
