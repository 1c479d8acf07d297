//! `[data]`: an image dataset, or the synthetic teacher problem with its sizes.

use repalign_data::{DatasetName, TeacherConfig};
use serde::{Deserialize, Serialize};

/// Which data a run trains on: an image dataset, or the synthetic teacher problem with its
/// sizes (`dataset = "teacher"` and a `[data.teacher]` table in a file; the one cannot come
/// without the other).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DataTable", into = "DataTable")]
pub enum DataConfig {
    Images(DatasetName),
    Teacher(TeacherConfig),
}

impl DataConfig {
    /// The name a file gives it: `mnist`, ..., `teacher`.
    pub fn name(&self) -> &'static str {
        match self {
            DataConfig::Images(d) => d.as_str(),
            DataConfig::Teacher(_) => "teacher",
        }
    }

    /// The image dataset to load, if any.
    pub fn images(&self) -> Option<DatasetName> {
        match self {
            DataConfig::Images(d) => Some(*d),
            DataConfig::Teacher(_) => None,
        }
    }
}

/// `[data]` as a file writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataTable {
    dataset: DatasetTag,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    teacher: Option<TeacherConfig>,
}

/// The names `dataset` takes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum DatasetTag {
    Mnist,
    FashionMnist,
    Digits,
    Cifar10,
    Teacher,
}

impl TryFrom<DataTable> for DataConfig {
    type Error = String;
    fn try_from(t: DataTable) -> Result<Self, String> {
        let images = |d| match t.teacher {
            None => Ok(DataConfig::Images(d)),
            Some(_) => {
                Err("data: a [data.teacher] table goes with dataset = \"teacher\" only".to_string())
            }
        };
        match t.dataset {
            DatasetTag::Mnist => images(DatasetName::Mnist),
            DatasetTag::FashionMnist => images(DatasetName::FashionMnist),
            DatasetTag::Digits => images(DatasetName::Digits),
            DatasetTag::Cifar10 => images(DatasetName::Cifar10),
            DatasetTag::Teacher => t.teacher.map(DataConfig::Teacher).ok_or_else(|| {
                "data: dataset = \"teacher\" needs a [data.teacher] table (dim, train, test, seed)"
                    .to_string()
            }),
        }
    }
}

impl From<DataConfig> for DataTable {
    fn from(d: DataConfig) -> Self {
        match d {
            DataConfig::Images(name) => DataTable {
                dataset: match name {
                    DatasetName::Mnist => DatasetTag::Mnist,
                    DatasetName::FashionMnist => DatasetTag::FashionMnist,
                    DatasetName::Digits => DatasetTag::Digits,
                    DatasetName::Cifar10 => DatasetTag::Cifar10,
                },
                teacher: None,
            },
            DataConfig::Teacher(t) => DataTable {
                dataset: DatasetTag::Teacher,
                teacher: Some(t),
            },
        }
    }
}
