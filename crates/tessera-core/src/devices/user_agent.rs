//! The browser and operating system a `User-Agent` header names, in the words a person knows
//! them by ("Firefox 126", "iOS 17.4").
//!
//! The header is whatever the browser chooses to send (RFC 9110 §10.1.5), and browsers now
//! freeze most of it, so this only helps a person recognise their own devices: it never
//! decides anything. The parsing is woothee's (its dataset is shared with its ports to other
//! languages); what is ours is the wording: a browser's major version only, since its minor
//! ones change every few weeks, and Apple's systems by their current names.

use woothee::parser::Parser;
use woothee::woothee::VALUE_UNKNOWN;

/// What a user agent says it runs; `None` for a part woothee does not recognise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Software {
    /// The browser and its major version, "Firefox 126".
    pub browser: Option<String>,
    /// The operating system and, where the header gives it, its version: "Linux",
    /// "iOS 17.4", "Windows 10".
    pub os: Option<String>,
}

/// The browser and system `user_agent` names.
pub fn describe(user_agent: &str) -> Software {
    let Some(parsed) = Parser::new().parse(user_agent) else {
        return Software::default();
    };
    Software {
        browser: known(parsed.name).map(|name| with_major(name, parsed.version)),
        os: known(parsed.os).map(|os| system(os, &parsed.os_version)),
    }
}

/// Woothee's answer, unless it is its "unknown" marker or empty.
fn known(value: &str) -> Option<&str> {
    (!value.is_empty() && value != VALUE_UNKNOWN).then_some(value)
}

/// "Firefox" and "126.0" make "Firefox 126"; a version without a leading number is left out.
fn with_major(name: &str, version: &str) -> String {
    let major = version.split('.').next().unwrap_or_default();
    if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) {
        format!("{name} {major}")
    } else {
        name.to_string()
    }
}

/// The system's name as its maker now uses it, with its version when the header gives one
/// that the name does not already carry (woothee names Windows by release, "Windows 10",
/// and gives the kernel's "NT 10.0" as the version).
fn system(os: &str, version: &str) -> String {
    let name = match os {
        "iPhone" | "iPod" => "iOS",
        "iPad" => "iPadOS",
        "Mac OSX" => "macOS",
        "Windows UNKNOWN Ver" => "Windows",
        other => other,
    };
    let redundant = name.starts_with("Windows") && version.starts_with("NT");
    match known(version) {
        Some(version) if !redundant => format!("{name} {version}"),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(user_agent: &str) -> (Option<String>, Option<String>) {
        let software = describe(user_agent);
        (software.browser, software.os)
    }

    fn some(browser: &str, os: &str) -> (Option<String>, Option<String>) {
        (Some(browser.to_string()), Some(os.to_string()))
    }

    #[test]
    fn common_browsers_are_named_with_their_major_version_and_system() {
        let firefox_linux = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 \
                             Firefox/126.0";
        assert_eq!(parts(firefox_linux), some("Firefox 126", "Linux"));

        let safari_iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) \
                             AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 \
                             Mobile/15E148 Safari/604.1";
        assert_eq!(parts(safari_iphone), some("Safari 17", "iOS 17.4"));

        let chrome_windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                              (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";
        assert_eq!(parts(chrome_windows), some("Chrome 125", "Windows 10"));

        let safari_mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) \
                          AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
        assert_eq!(parts(safari_mac), some("Safari 17", "macOS 10.15.7"));

        let chrome_android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                              (KHTML, like Gecko) Chrome/125.0.6422.53 Mobile Safari/537.36";
        assert_eq!(parts(chrome_android), some("Chrome 125", "Android 14"));
    }

    #[test]
    fn what_is_not_recognised_is_none_and_never_a_panic() {
        assert_eq!(parts(""), (None, None));
        assert_eq!(parts("-"), (None, None));
        assert_eq!(parts("curl/8.5.0").1, None);
        for odd in [
            "Mozilla/5.0 (Windows NT; \u{1F600}) Firefox/ä.ö",
            "Firefox/",
            "Mozilla/5.0 (iPhone; CPU iPhone OS _ like Mac OS X) Version/.",
            "\u{0}\u{7f}(((;;;)))",
        ] {
            describe(odd);
        }
        let long = "Mozilla/5.0 ".repeat(2_000);
        describe(&long);
    }
}
