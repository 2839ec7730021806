//! The shared credentials file format (`~/.aws/credentials`, AWS SDKs and Tools Reference Guide,
//! "Shared config and credentials files"), used to configure the keys a server accepts.

use crate::{Credentials, SecretKey};

/// Longest credentials file accepted, in bytes.
const MAX_FILE_LEN: usize = 1024 * 1024;

/// Parses an INI credentials file into one [`Credentials`] per profile that has keys.
///
/// ```text
/// # comment
/// [default]
/// aws_access_key_id = AKIDEXAMPLE
/// aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
/// aws_account_id = 111122223333   ; optional
/// ```
///
/// Lines starting with `#` or `;` are comments; other keys (`region`, `aws_session_token`, ...)
/// are ignored; a `[profile name]` header is accepted as in the config file. Errors name the line:
/// text outside a section, a line that is not `key = value`, a profile with only one of the two
/// keys, a repeated key in a profile, and an access key id used by two profiles.
pub fn parse(text: &str) -> Result<Vec<Credentials>, String> {
    if text.len() > MAX_FILE_LEN {
        return Err(format!(
            "credentials file is larger than {MAX_FILE_LEN} bytes"
        ));
    }
    let mut out: Vec<Credentials> = Vec::new();
    let mut current: Option<Profile> = None;
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let Some(name) = header.strip_suffix(']') else {
                return Err(format!(
                    "line {line_no}: section header without closing ']'"
                ));
            };
            let name = name.trim();
            let name = name.strip_prefix("profile ").map_or(name, str::trim);
            if name.is_empty() {
                return Err(format!("line {line_no}: empty profile name"));
            }
            if let Some(done) = current.take() {
                push_profile(&mut out, done)?;
            }
            current = Some(Profile {
                name: name.to_owned(),
                line_no,
                ..Profile::default()
            });
            continue;
        }
        let Some(profile) = current.as_mut() else {
            return Err(format!(
                "line {line_no}: key outside of a [profile] section"
            ));
        };
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {line_no}: expected 'key = value'"));
        };
        let slot = match key.trim() {
            "aws_access_key_id" => &mut profile.access_key_id,
            "aws_secret_access_key" => &mut profile.secret,
            "aws_account_id" => &mut profile.account_id,
            _ => continue,
        };
        if slot.replace(value.trim().to_owned()).is_some() {
            return Err(format!(
                "line {line_no}: '{}' repeated in profile [{}]",
                key.trim(),
                profile.name
            ));
        }
    }
    if let Some(done) = current.take() {
        push_profile(&mut out, done)?;
    }
    Ok(out)
}

#[derive(Default)]
struct Profile {
    name: String,
    line_no: usize,
    access_key_id: Option<String>,
    secret: Option<String>,
    account_id: Option<String>,
}

fn push_profile(out: &mut Vec<Credentials>, profile: Profile) -> Result<(), String> {
    let Profile {
        name,
        line_no,
        access_key_id,
        secret,
        account_id,
    } = profile;
    let (access_key_id, secret) = match (access_key_id, secret) {
        // A profile with neither key only carries settings such as `region`.
        (None, None) => return Ok(()),
        (Some(akid), Some(secret)) if !akid.is_empty() && !secret.is_empty() => (akid, secret),
        _ => {
            return Err(format!(
                "profile [{name}] (line {line_no}) needs both a non-empty aws_access_key_id and \
                 aws_secret_access_key"
            ));
        }
    };
    if out.iter().any(|c| c.access_key_id == access_key_id) {
        return Err(format!(
            "profile [{name}] (line {line_no}): access key id {access_key_id} is used twice"
        ));
    }
    out.push(Credentials {
        access_key_id,
        secret: SecretKey::from(secret),
        account_id: account_id.filter(|a| !a.is_empty()),
    });
    Ok(())
}
