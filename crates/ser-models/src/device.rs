//! Choosing a device from a name: `cpu`, `cuda`, `cuda:N`, `metal`, or `auto`.

use candle_core::Device;

use crate::error::{Error, Result};

/// The device called `name`, and a short description of what was chosen.
///
/// `auto` picks the first GPU this build supports and the machine has (CUDA, then Metal),
/// else the CPU. Asking for a GPU this build was compiled without (the `cuda` / `metal`
/// features) or that the machine lacks is an [`Error::Device`].
///
/// # Errors
/// [`Error::Device`] for an unknown name or an unavailable device.
pub fn parse_device(name: &str) -> Result<(Device, String)> {
    let unavailable = |reason: String| Error::Device {
        requested: name.to_string(),
        reason,
    };
    let name = name.trim();
    if name == "cpu" {
        return Ok((Device::Cpu, "cpu".into()));
    }
    if name == "auto" {
        if candle_core::utils::cuda_is_available() {
            if let Ok(d) = Device::new_cuda(0) {
                return Ok((d, "cuda:0 (auto)".into()));
            }
        }
        if candle_core::utils::metal_is_available() {
            if let Ok(d) = Device::new_metal(0) {
                return Ok((d, "metal:0 (auto)".into()));
            }
        }
        return Ok((
            Device::Cpu,
            "cpu (auto: no GPU in this build or machine)".into(),
        ));
    }
    let (kind, ordinal) = match name.split_once(':') {
        Some((k, n)) => (
            k,
            n.parse::<usize>()
                .map_err(|_| unavailable(format!("`{n}` is not a device number")))?,
        ),
        None => (name, 0),
    };
    match kind {
        "cuda" => {
            if !candle_core::utils::cuda_is_available() {
                return Err(unavailable(
                    "this build has no CUDA support (rebuild with `--features cuda`)".into(),
                ));
            }
            let d = Device::new_cuda(ordinal).map_err(|e| unavailable(e.to_string()))?;
            Ok((d, format!("cuda:{ordinal}")))
        }
        "metal" => {
            if !candle_core::utils::metal_is_available() {
                return Err(unavailable(
                    "this build has no Metal support (rebuild with `--features metal`)".into(),
                ));
            }
            let d = Device::new_metal(ordinal).map_err(|e| unavailable(e.to_string()))?;
            Ok((d, format!("metal:{ordinal}")))
        }
        _ => Err(unavailable(
            "expected cpu, cuda, cuda:N, metal or auto".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(matches!(parse_device("cpu"), Ok((Device::Cpu, _))));
        assert!(parse_device("auto").is_ok());
        assert!(parse_device("tpu").is_err());
        assert!(parse_device("cuda:x").is_err());
        #[cfg(not(feature = "cuda"))]
        {
            let e = parse_device("cuda:0")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("--features cuda"), "{e}");
        }
    }
}
