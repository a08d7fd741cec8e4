//! The typed pieces of a manifest: micro-frontends, nav-bar groups, injectables, cruds and
//! subscribed events.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// `{source, kind, eventName, hookUrl}`: events Qelos posts to `hookUrl`; `*` matches any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedEvent {
    /// Event source (`blueprints`, `auth`, … or `*`).
    pub source: String,
    /// Event kind (a blueprint key, … or `*`).
    pub kind: String,
    /// Event name (`create`, `update`, `delete`, … or `*`).
    pub event_name: String,
    /// Where Qelos posts the event (absolute).
    pub hook_url: String,
}

/// A nav-bar group micro-frontend routes can join.
///
/// # Examples
///
/// ```
/// let g = qelos_plugin::NavBarGroup::new("todos", "Todos").icon_name("list").priority(2);
/// assert_eq!(serde_json::to_value(&g)?, serde_json::json!({"key":"todos","name":"Todos","iconName":"list","priority":2}));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NavBarGroup {
    /// Group key (what routes name in `group`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Icon name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_name: Option<String>,
    /// Inline SVG icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_svg: Option<String>,
    /// Ordering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

impl NavBarGroup {
    /// A group `key` shown as `name`.
    pub fn new(key: &str, name: &str) -> Self {
        Self {
            key: key.to_owned(),
            name: name.to_owned(),
            icon_name: None,
            icon_svg: None,
            priority: None,
        }
    }

    /// Sets the icon name.
    #[must_use]
    pub fn icon_name(mut self, icon: &str) -> Self {
        self.icon_name = Some(icon.to_owned());
        self
    }

    /// Sets the priority.
    #[must_use]
    pub fn priority(mut self, priority: i64) -> Self {
        self.priority = Some(priority);
        self
    }
}

/// Where a micro-frontend route shows in the nav bar; `Hidden` is plugin-play's `false`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NavBarPosition {
    /// `"top"`.
    #[default]
    Top,
    /// `"bottom"`.
    Bottom,
    /// `"user-dropdown"`.
    UserDropdown,
    /// `false`: routed but not in the nav bar.
    Hidden,
}

impl Serialize for NavBarPosition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Top => s.serialize_str("top"),
            Self::Bottom => s.serialize_str("bottom"),
            Self::UserDropdown => s.serialize_str("user-dropdown"),
            Self::Hidden => s.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for NavBarPosition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) if s == "bottom" => Self::Bottom,
            Value::String(s) if s == "user-dropdown" => Self::UserDropdown,
            Value::String(_) => Self::Top,
            _ => Self::Hidden,
        })
    }
}

/// The route of a micro-frontend.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MicroFrontendRoute {
    /// Route name.
    pub name: String,
    /// Route path (under the plugin's area in Qelos).
    pub path: String,
    /// Nav-bar position.
    pub nav_bar_position: NavBarPosition,
    /// Nav-bar group key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Icon name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_name: Option<String>,
    /// Inline SVG icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_svg: Option<String>,
}

/// A micro-frontend shown as a component on a Qelos page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MicroFrontendComponent {
    /// The page.
    pub page: String,
    /// `top`, `left`, `right` or `bottom`.
    pub position: String,
}

/// A micro-frontend opened as a modal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MicroFrontendModal {
    /// Modal name.
    pub name: String,
    /// Props schema or hints.
    pub params: Value,
    /// `sm`, `md`, `lg` or `full`.
    pub size: String,
}

/// Iframe (`url`) or pre-designed (`use` a Qelos screen over a `crud`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MicroFrontendKind {
    /// An iframe of `url` (relative URLs resolve against `appUrl`).
    Iframe {
        /// The page.
        url: String,
    },
    /// A Qelos screen (`rows-list`, `basic-form`, …) over one of the plugin's cruds.
    PreDesigned {
        /// The screen.
        #[serde(rename = "use")]
        use_: String,
        /// The crud name.
        crud: String,
        /// Optional structure (screen layout).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        structure: Option<String>,
    },
}

/// A micro-frontend, serialized as plugin-play's `IframeMicroFrontend` /
/// `PreDesignedMicroFrontend`.
///
/// # Examples
///
/// ```
/// use qelos_plugin::{MicroFrontend, NavBarPosition};
/// let mfe = MicroFrontend::iframe("Board", "The todo board", "/board.html")
///     .route("Board", "board", NavBarPosition::Top)
///     .roles(["admin"]);
/// let json = serde_json::to_value(&mfe)?;
/// assert_eq!(json["url"], "/board.html");
/// assert_eq!(json["route"]["navBarPosition"], "top");
/// assert_eq!(json["roles"][0], "admin");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MicroFrontend {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Roles allowed to see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<MicroFrontendRoute>,
    /// Component placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<MicroFrontendComponent>,
    /// Modal placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modal: Option<MicroFrontendModal>,
    /// Iframe or pre-designed.
    #[serde(flatten)]
    pub kind: MicroFrontendKind,
}

impl MicroFrontend {
    /// An iframe micro-frontend of `url`.
    pub fn iframe(name: &str, description: &str, url: &str) -> Self {
        Self::with_kind(
            name,
            description,
            MicroFrontendKind::Iframe {
                url: url.to_owned(),
            },
        )
    }

    /// A pre-designed screen (`use`) over the crud `crud`.
    pub fn pre_designed(name: &str, description: &str, screen: &str, crud: &str) -> Self {
        Self::with_kind(
            name,
            description,
            MicroFrontendKind::PreDesigned {
                use_: screen.to_owned(),
                crud: crud.to_owned(),
                structure: None,
            },
        )
    }

    fn with_kind(name: &str, description: &str, kind: MicroFrontendKind) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            roles: None,
            route: None,
            component: None,
            modal: None,
            kind,
        }
    }

    /// Sets the route.
    #[must_use]
    pub fn route(mut self, name: &str, path: &str, position: NavBarPosition) -> Self {
        self.route = Some(MicroFrontendRoute {
            name: name.to_owned(),
            path: path.to_owned(),
            nav_bar_position: position,
            ..MicroFrontendRoute::default()
        });
        self
    }

    /// Restricts it to roles.
    #[must_use]
    pub fn roles<I: IntoIterator<Item = T>, T: Into<String>>(mut self, roles: I) -> Self {
        self.roles = Some(roles.into_iter().map(Into::into).collect());
        self
    }

    /// Shows it as a component on `page` at `position`.
    #[must_use]
    pub fn component(mut self, page: &str, position: &str) -> Self {
        self.component = Some(MicroFrontendComponent {
            page: page.to_owned(),
            position: position.to_owned(),
        });
        self
    }
}

/// HTML Qelos injects into its pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Injectable {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The HTML.
    pub html: String,
}

impl Injectable {
    /// An injectable of `html`.
    pub fn new(name: &str, html: &str) -> Self {
        Self {
            name: Some(name.to_owned()),
            description: None,
            html: html.to_owned(),
        }
    }
}

/// Display names of a crud (plugin-play's `getDisplayNames`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrudDisplay {
    /// As given (`todo item`).
    pub name: String,
    /// Lower-case plural (`todo items`).
    pub plural: String,
    /// Capitalized (`Todo Item`).
    pub capitalized: String,
    /// Capitalized plural (`Todo Items`).
    pub capitalized_plural: String,
}

fn plural(word: &str) -> String {
    match word.chars().last().map(|c| c.to_ascii_lowercase()) {
        Some('x' | 'h' | 's') => format!("{word}es"),
        Some('y') => format!("{}ies", &word[..word.len() - 1]),
        _ => format!("{word}s"),
    }
}

impl CrudDisplay {
    /// The display names of `name`, as plugin-play derives them.
    ///
    /// # Examples
    ///
    /// ```
    /// let d = qelos_plugin::CrudDisplay::of("todo category");
    /// assert_eq!((d.plural.as_str(), d.capitalized.as_str(), d.capitalized_plural.as_str()),
    ///     ("todo categories", "Todo Category", "Todo Categories"));
    /// ```
    pub fn of(name: &str) -> Self {
        let capitalized = name
            .split(' ')
            .map(|w| {
                let mut c = w.chars();
                c.next().map_or_else(String::new, |f| {
                    f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase()
                })
            })
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            name: name.to_owned(),
            plural: plural(&name.to_lowercase()),
            capitalized_plural: plural(&capitalized),
            capitalized,
        }
    }
}

/// A `cruds` entry: `{name, display}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrudEntry {
    /// URL name (`todo-items`).
    pub name: String,
    /// Display names.
    pub display: CrudDisplay,
}
