//! Customers (客户/学校) and their contact people: raw input, checked values, rules.

use crate::validation::{FieldErrors, optional, required};
use serde::{Deserialize, Serialize};

/// A contact person as typed into a form, an API body or a spreadsheet row.
// Named apart from the contact record's input (`contacts::ContactInput`): sharing one name in
// the OpenAPI document, a school's contact people were described as a contact record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = CustomerContactInput)]
pub struct ContactInput {
    pub name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// QQ or WeChat id.
    pub im: Option<String>,
}

/// A customer as typed in; `validate` turns it into a [`NewCustomer`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomerInput {
    pub name: Option<String>,
    pub code: Option<String>,
    pub county: Option<String>,
    pub town: Option<String>,
    pub address: Option<String>,
    /// Travel time from the depot in minutes.
    pub travel_minutes: Option<i32>,
    pub contacts: Option<Vec<ContactInput>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewContact {
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub im: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub name: String,
    pub code: String,
    pub county: String,
    pub town: String,
    pub address: Option<String>,
    pub travel_minutes: Option<i32>,
    pub contacts: Vec<NewContact>,
}

impl CustomerInput {
    pub fn validate(&self) -> Result<NewCustomer, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = required(&mut e, "name", self.name.as_deref(), 100);
        let code = required(&mut e, "code", self.code.as_deref(), 32);
        if !code.is_empty() && !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            e.push("code", "invalid");
        }
        let county = required(&mut e, "county", self.county.as_deref(), 50);
        let town = required(&mut e, "town", self.town.as_deref(), 50);
        let address = optional(&mut e, "address", self.address.as_deref(), 200);
        if let Some(m) = self.travel_minutes
            && !(0..=24 * 60).contains(&m)
        {
            e.push("travel_minutes", "out_of_range");
        }
        let mut contacts = Vec::new();
        for (i, c) in self.contacts.iter().flatten().enumerate() {
            let blank = [&c.name, &c.title, &c.phone, &c.email, &c.im]
                .iter()
                .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()));
            if blank {
                continue; // an empty row of a form is not a contact
            }
            let f = |n: &str| format!("contacts[{i}].{n}");
            let name = required(&mut e, &f("name"), c.name.as_deref(), 50);
            let title = optional(&mut e, &f("title"), c.title.as_deref(), 50);
            let phone = optional(&mut e, &f("phone"), c.phone.as_deref(), 30);
            if let Some(p) = &phone
                && !is_phone(p)
            {
                e.push(f("phone"), "invalid");
            }
            let email = optional(&mut e, &f("email"), c.email.as_deref(), 100);
            if let Some(m) = &email
                && !is_email(m)
            {
                e.push(f("email"), "invalid");
            }
            let im = optional(&mut e, &f("im"), c.im.as_deref(), 50);
            contacts.push(NewContact { name, title, phone, email, im });
        }
        e.into_result(NewCustomer {
            name,
            code: code.to_uppercase(),
            county,
            town,
            address,
            travel_minutes: self.travel_minutes,
            contacts,
        })
    }
}

/// Digits with optional `+`, `-`, spaces and parentheses: 0558-1234567, 138 0000 0000.
pub fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits) && s.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c))
}

/// Only digits of a phone number, so `0558-123 4567` and `05581234567` are the same caller.
pub fn phone_digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

pub fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> CustomerInput {
        CustomerInput {
            name: Some("城关镇中心小学".into()),
            code: Some("cg-01".into()),
            county: Some("青阳县".into()),
            town: Some("城关镇".into()),
            contacts: Some(vec![
                ContactInput {
                    name: Some("王老师".into()), phone: Some("0566-5012345".into()), ..Default::default()
                },
                ContactInput::default(),
            ]),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_customer_validates_and_blank_contact_rows_are_dropped() {
        let c = good().validate().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.code, "CG-01");
        assert_eq!(c.contacts.len(), 1);
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut i = good();
        i.name = Some(" ".into());
        i.code = Some("城关".into());
        i.contacts = Some(vec![ContactInput {
            name: None,
            phone: Some("abc".into()),
            email: Some("x@y".into()),
            ..Default::default()
        }]);
        let e = i.validate().err().unwrap_or_default();
        let fields: Vec<_> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(
            fields,
            vec![
                ("name", "required"),
                ("code", "invalid"),
                ("contacts[0].name", "required"),
                ("contacts[0].phone", "invalid"),
                ("contacts[0].email", "invalid"),
            ]
        );
    }

    #[test]
    fn phones_and_emails() {
        assert!(is_phone("138 0000 0000"));
        assert!(is_phone("+86 (566) 501-2345"));
        assert!(!is_phone("12"));
        assert_eq!(phone_digits("0566-501 2345"), "05665012345");
        assert!(is_email("wang@school.edu.cn"));
        assert!(!is_email("wang@school"));
        assert!(!is_email("@school.cn"));
    }
}
