"""The SNP service as an agenda editor of the national SAS platform (SPEC section 7, ANS guide ``ans.fhir.fr.sas``).

- ``search``: the slot search the platform calls (INT_R01, and its CPTS variant INT_R04), one SQL statement;
- ``resources``: the FHIR resources of its answer, as the package's profiles want them;
- ``capability``: the CapabilityStatement at ``/metadata``;
- ``regulators``: regulator accounts created and updated by the platform (INT_R02);
- ``appointments``: the FrAppointmentSAS we send it for each booking (INT_R03; sent by ``notify.sas_sender``);
- ``mtls``: who may call (the client certificate checked by the reverse proxy);
- ``outcome``: OperationOutcome errors and the ``application/fhir+json`` answers;
- ``codes``: the systems, OIDs, profiles and codes the guide fixes.
"""
