//! The letter as an HL7 CDA R2 document of level 1 (CI-SIS "document non structuré"): the
//! French header of the ANS example `DOC_NON_STRUCTURE_CDA-R2-N1.xml`, and the PDF letter as a
//! base64 `nonXMLBody`.
//!
//! Document type: LOINC 11488-4 "Consult note" (Note de consultation). A letter written after
//! a home visit is the report of a consultation held at the patient's home, addressed to the
//! treating physician; 11488-4 is the LOINC document type for that (it is also the type of
//! HL7's own sample consultation letter), whereas 34133-9 (summary of episode) or 11490-0
//! (discharge summary) describe a stay, which a home visit is not.
//!
//! Identifiers follow the ANS conventions of the example: health professionals by IdNat_PS
//! (`8` + RPPS) under OID 1.2.250.1.71.4.2.1, structures by IdNat_Struct under
//! 1.2.250.1.71.4.2.2, the patient by INS-NIR under 1.2.250.1.213.1.4.8 when the identity is
//! qualified. The assistant who drafted the letter is the `dataEnterer`; the doctor is author
//! and legal authenticator.

use crate::ids::{b64, derived_uuid, hl7_ts, uuid_oid, xml_escape as esc};
use crate::model::{Address, Letter, PersonName, Sex, OID_INS_NIR, OID_RPPS, OID_STRUCTURE};
use crate::LetterError;

/// A coded document type, for the CDA and for the mail headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentCode {
    pub code: &'static str,
    /// OID of the code system (LOINC).
    pub system: &'static str,
    pub display: &'static str,
}

/// The document type of the letter: LOINC 11488-4 (see the module doc for why).
pub fn cda_code() -> DocumentCode {
    DocumentCode {
        code: "11488-4",
        system: "2.16.840.1.113883.6.1",
        display: "Note de consultation",
    }
}

/// The root of the patient's local identifiers: the association's OID + `.1`, or a stable
/// `2.25` OID derived from the association's name when it has no OID.
pub(crate) fn patient_id_root(letter: &Letter) -> String {
    match &letter.association.oid_root {
        Some(o) => format!("{o}.1"),
        None => uuid_oid(&derived_uuid(
            "00000000-0000-0000-0000-000000000000",
            &format!("patients of {}", letter.association.name),
        )),
    }
}

/// The document's id as (root, extension): under the association's OID when it has one,
/// otherwise the document UUID as a `2.25` OID.
pub(crate) fn document_ii(letter: &Letter, uuid: &str) -> (String, Option<String>) {
    match &letter.association.oid_root {
        Some(o) => (o.clone(), Some(uuid.to_string())),
        None => (uuid_oid(uuid), None),
    }
}

fn ii(root: &str, ext: Option<&str>) -> String {
    match ext {
        Some(e) => format!("<id root=\"{}\" extension=\"{}\"/>", esc(root), esc(e)),
        None => format!("<id root=\"{}\"/>", esc(root)),
    }
}

fn addr(a: &Address) -> String {
    let mut s = String::from("<addr>");
    for l in a.lines.iter().filter(|l| !l.trim().is_empty()) {
        s.push_str(&format!(
            "<streetAddressLine>{}</streetAddressLine>",
            esc(l.trim())
        ));
    }
    if !a.postal_code.is_empty() {
        s.push_str(&format!("<postalCode>{}</postalCode>", esc(&a.postal_code)));
    }
    if !a.city.is_empty() {
        s.push_str(&format!("<city>{}</city>", esc(&a.city)));
    }
    s.push_str(&format!(
        "<country>{}</country>",
        esc(a.country.as_deref().unwrap_or("FRANCE"))
    ));
    s.push_str("</addr>");
    s
}

fn person(n: &PersonName, dr: bool) -> String {
    format!(
        "<name>{}<given>{}</given><family>{}</family>{}</name>",
        "",
        esc(&n.given),
        esc(&n.family),
        if dr { "<suffix>DR</suffix>" } else { "" }
    )
}

fn tel(phone: &str) -> String {
    let digits: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    format!("<telecom value=\"tel:{}\" use=\"WP\"/>", esc(&digits))
}

/// The CDA R2 N1 document (UTF-8 XML text) with `pdf` as its body.
pub fn cda(letter: &Letter, pdf: &[u8]) -> Result<String, LetterError> {
    letter.validate()?;
    let l = letter;
    let tz = l.time_zone;
    let code = cda_code();
    let created = hl7_ts(tz, l.document.created_at);
    let a = &l.association;
    let dr = &l.author;
    let p = &l.patient;
    let mut x = String::with_capacity(pdf.len() * 4 / 3 + 16_000);
    let push = |x: &mut String, s: &str| x.push_str(s);

    push(&mut x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    push(&mut x, "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n");
    push(&mut x, "  <realmCode code=\"FR\"/>\n");
    push(
        &mut x,
        "  <typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>\n",
    );
    push(
        &mut x,
        "  <!-- HL7 France, CI-SIS, IHE XDS-SD (a PDF scanned or rendered document) -->\n",
    );
    push(
        &mut x,
        "  <templateId root=\"2.16.840.1.113883.2.8.2.1\"/>\n",
    );
    push(&mut x, "  <templateId root=\"1.2.250.1.213.1.1.1.1\"/>\n");
    push(
        &mut x,
        "  <templateId root=\"1.3.6.1.4.1.19376.1.2.20\"/>\n",
    );
    let (root, ext) = document_ii(l, &l.document.id);
    x.push_str(&format!("  {}\n", ii(&root, ext.as_deref())));
    x.push_str(&format!(
        "  <code code=\"{}\" displayName=\"{}\" codeSystem=\"{}\" codeSystemName=\"LOINC\"/>\n",
        code.code,
        esc(code.display),
        code.system
    ));
    x.push_str(&format!(
        "  <title>{}</title>\n",
        esc(&format!(
            "Lettre au médecin traitant — visite à domicile du {}",
            crate::text::date_short(tz.local(l.visit.start).date())
        ))
    ));
    x.push_str(&format!("  <effectiveTime value=\"{created}\"/>\n"));
    push(&mut x, "  <confidentialityCode code=\"N\" displayName=\"Normal\" codeSystem=\"2.16.840.1.113883.5.25\" codeSystemName=\"Confidentiality\"/>\n");
    push(&mut x, "  <languageCode code=\"fr-FR\"/>\n");
    let (sroot, sext) = document_ii(l, &l.document.set_id);
    x.push_str(&format!(
        "  {}\n",
        ii(&sroot, sext.as_deref()).replacen("<id ", "<setId ", 1)
    ));
    x.push_str(&format!(
        "  <versionNumber value=\"{}\"/>\n",
        l.document.version
    ));

    // Patient.
    push(&mut x, "  <recordTarget>\n    <patientRole>\n");
    if let Some(ins) = p.exchange_ins() {
        x.push_str(&format!(
            "      <!-- INS-NIR (qualified identity) -->\n      {}\n",
            ii(OID_INS_NIR, Some(&ins.nir))
        ));
    }
    x.push_str(&format!(
        "      {}\n",
        ii(&patient_id_root(l), Some(&p.local_id))
    ));
    if let Some(ad) = &p.address {
        x.push_str(&format!("      {}\n", addr(ad)));
    }
    push(&mut x, "      <patient classCode=\"PSN\">\n        <name>");
    let birth_family = p
        .birth_family
        .as_deref()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or(&p.name.family);
    let first_given = p.name.given.split_whitespace().next().unwrap_or("");
    x.push_str(&format!(
        "<family qualifier=\"BR\">{}</family><given>{}</given><given qualifier=\"BR\">{}</given><family qualifier=\"CL\">{}</family><given qualifier=\"CL\">{}</given>",
        esc(birth_family),
        esc(&p.name.given),
        esc(first_given),
        esc(&p.name.family),
        esc(first_given)
    ));
    push(&mut x, "</name>\n");
    let (g, gd) = match p.sex {
        Sex::Female => ("F", "Féminin"),
        Sex::Male => ("M", "Masculin"),
        Sex::Unknown => ("U", "Inconnu"),
    };
    x.push_str(&format!(
        "        <administrativeGenderCode code=\"{g}\" displayName=\"{gd}\" codeSystem=\"2.16.840.1.113883.5.1\"/>\n"
    ));
    x.push_str(&format!(
        "        <birthTime value=\"{}\"/>\n",
        p.birth_date.format("%Y%m%d")
    ));
    push(
        &mut x,
        "      </patient>\n    </patientRole>\n  </recordTarget>\n",
    );

    // Author: the doctor, for the association.
    let org = organization(l, "representedOrganization");
    push(&mut x, "  <author>\n");
    x.push_str(&format!("    <time value=\"{created}\"/>\n"));
    push(&mut x, "    <assignedAuthor>\n");
    x.push_str(&format!(
        "      {}\n",
        ii(OID_RPPS, Some(&format!("8{}", dr.rpps)))
    ));
    push(&mut x, "      <code code=\"G15_10\" displayName=\"Médecin\" codeSystem=\"1.2.250.1.213.1.1.4.5\"/>\n");
    x.push_str(&format!("      {}\n", addr(&a.address)));
    if let Some(ph) = &dr.phone {
        x.push_str(&format!("      {}\n", tel(ph)));
    }
    x.push_str(&format!(
        "      <telecom value=\"mailto:{}\" use=\"WP\"/>\n",
        esc(&dr.mssante)
    ));
    x.push_str(&format!(
        "      <assignedPerson>{}</assignedPerson>\n",
        person(&dr.name, true)
    ));
    x.push_str(&format!("      {org}\n"));
    push(&mut x, "    </assignedAuthor>\n  </author>\n");

    // Who drafted it.
    if let Some(d) = l.drafted_by.as_ref().filter(|d| !d.full().is_empty()) {
        push(
            &mut x,
            "  <!-- Drafted by an assistant, validated by the author -->\n  <dataEnterer>\n",
        );
        x.push_str(&format!("    <time value=\"{created}\"/>\n"));
        push(
            &mut x,
            "    <assignedEntity>\n      <id nullFlavor=\"NI\"/>\n",
        );
        x.push_str(&format!(
            "      <assignedPerson>{}</assignedPerson>\n",
            person(d, false)
        ));
        push(&mut x, "    </assignedEntity>\n  </dataEnterer>\n");
    }

    // Custodian.
    push(&mut x, "  <custodian>\n    <assignedCustodian>\n");
    x.push_str(&format!(
        "      {}\n",
        organization(l, "representedCustodianOrganization")
    ));
    push(&mut x, "    </assignedCustodian>\n  </custodian>\n");

    // The treating physician.
    let r = &l.recipient;
    push(
        &mut x,
        "  <informationRecipient>\n    <intendedRecipient>\n",
    );
    match &r.rpps {
        Some(rp) => x.push_str(&format!(
            "      {}\n",
            ii(OID_RPPS, Some(&format!("8{rp}")))
        )),
        None => push(&mut x, "      <id nullFlavor=\"UNK\"/>\n"),
    }
    if let Some(ad) = &r.address {
        x.push_str(&format!("      {}\n", addr(ad)));
    }
    x.push_str(&format!(
        "      <telecom value=\"mailto:{}\" use=\"WP\"/>\n",
        esc(&r.mssante)
    ));
    x.push_str(&format!(
        "      <informationRecipient>{}</informationRecipient>\n",
        person(&r.name, true)
    ));
    push(
        &mut x,
        "    </intendedRecipient>\n  </informationRecipient>\n",
    );

    // Legal authenticator: the doctor.
    push(&mut x, "  <legalAuthenticator>\n");
    x.push_str(&format!(
        "    <time value=\"{created}\"/>\n    <signatureCode code=\"S\"/>\n"
    ));
    push(&mut x, "    <assignedEntity>\n");
    x.push_str(&format!(
        "      {}\n",
        ii(OID_RPPS, Some(&format!("8{}", dr.rpps)))
    ));
    x.push_str(&format!(
        "      <assignedPerson>{}</assignedPerson>\n",
        person(&dr.name, true)
    ));
    push(&mut x, "    </assignedEntity>\n  </legalAuthenticator>\n");

    // The acts: the visit, and a 12-lead ECG when one was recorded.
    let start = hl7_ts(tz, l.visit.start);
    let end = l.visit.end.map(|e| hl7_ts(tz, e));
    let period = |x: &mut String, indent: &str| {
        x.push_str(&format!(
            "{indent}<effectiveTime>\n{indent}  <low value=\"{start}\"/>\n"
        ));
        if let Some(e) = &end {
            x.push_str(&format!("{indent}  <high value=\"{e}\"/>\n"));
        }
        x.push_str(&format!("{indent}</effectiveTime>\n"));
    };
    let performer = format!(
        "      <performer typeCode=\"PRF\">\n        <assignedEntity>\n          {}\n          <assignedPerson>{}</assignedPerson>\n          {}\n        </assignedEntity>\n      </performer>\n",
        ii(OID_RPPS, Some(&format!("8{}", dr.rpps))),
        person(&dr.name, true),
        organization(l, "representedOrganization").replace(
            "</representedOrganization>",
            "<standardIndustryClassCode code=\"AMBULATOIRE\" displayName=\"Ambulatoire\" codeSystem=\"1.2.250.1.213.1.1.4.9\" codeSystemName=\"practiceSettingCode\"/></representedOrganization>"
        )
    );
    push(&mut x, "  <documentationOf>\n    <serviceEvent>\n");
    period(&mut x, "      ");
    x.push_str(&performer);
    push(&mut x, "    </serviceEvent>\n  </documentationOf>\n");
    if l.ecgs
        .iter()
        .any(|e| e.signal.as_ref().is_some_and(|s| s.leads.len() >= 12))
    {
        push(&mut x, "  <documentationOf>\n    <serviceEvent>\n");
        push(&mut x, "      <code code=\"DEQP003\" displayName=\"Électrocardiographie sur au moins 12 dérivations\" codeSystem=\"1.2.250.1.213.2.5\" codeSystemName=\"CCAM\"/>\n");
        period(&mut x, "      ");
        x.push_str(&performer);
        push(&mut x, "    </serviceEvent>\n  </documentationOf>\n");
    }

    // The encounter: a home visit.
    push(&mut x, "  <componentOf>\n    <encompassingEncounter>\n");
    push(&mut x, "      <code code=\"HH\" displayName=\"Visite à domicile\" codeSystem=\"2.16.840.1.113883.5.4\" codeSystemName=\"ActCode\"/>\n");
    period(&mut x, "      ");
    push(&mut x, "      <location>\n        <healthCareFacility>\n");
    push(&mut x, "          <code code=\"SA08\" displayName=\"Cabinet de groupe\" codeSystem=\"1.2.250.1.71.4.2.4\"/>\n");
    x.push_str(&format!(
        "          <location>\n            <name>Domicile du patient</name>\n            {}\n          </location>\n",
        addr(&l.visit.address)
    ));
    push(&mut x, "        </healthCareFacility>\n      </location>\n");
    push(&mut x, "    </encompassingEncounter>\n  </componentOf>\n");

    // Body: the PDF.
    push(&mut x, "  <component>\n    <nonXMLBody>\n      <text mediaType=\"application/pdf\" representation=\"B64\">");
    x.push_str(&b64(pdf));
    push(
        &mut x,
        "</text>\n    </nonXMLBody>\n  </component>\n</ClinicalDocument>\n",
    );
    Ok(x)
}

/// The association as a CDA organisation element named `tag`.
fn organization(l: &Letter, tag: &str) -> String {
    let a = &l.association;
    let mut s = format!("<{tag}>");
    match &a.structure_id {
        Some(id) => s.push_str(&ii(OID_STRUCTURE, Some(&id.id_nat()))),
        None => match &a.oid_root {
            Some(o) => s.push_str(&ii(o, None)),
            None => s.push_str("<id nullFlavor=\"UNK\"/>"),
        },
    }
    s.push_str(&format!("<name>{}</name>", esc(&a.name)));
    match &a.phone {
        Some(p) => s.push_str(&tel(p)),
        None => s.push_str("<telecom nullFlavor=\"NASK\"/>"),
    }
    s.push_str(&addr(&a.address));
    s.push_str(&format!("</{tag}>"));
    s
}
