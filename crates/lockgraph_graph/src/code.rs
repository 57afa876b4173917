//! Lock modes packed into small integers, and the conflict matrix over them.
//!
//! The search works on `u8` mode codes and a 27×27 bit matrix built once from
//! [`LockMode::conflicts_with`], so the semantics stay in `lockgraph_core` and the hot loops stay
//! branch-free.

use lockgraph_core::{
    AdvisoryMode, InnoDbRecordMode, InnoDbTableMode, LockMode, RowLockMode, TableLockMode,
};

/// Number of distinct mode codes: 8 table modes, 4 row modes, 2 advisory modes, 5 InnoDB table
/// modes, 8 InnoDB record modes.
pub(crate) const MODE_COUNT: usize = 27;

/// The code of a mode: table modes `0..8`, row modes `8..12`, advisory `12..14`, InnoDB table
/// modes `14..19`, InnoDB record modes `19..27`.
pub(crate) fn mode_code(mode: LockMode) -> u8 {
    match mode {
        LockMode::Table(m) => m as u8,
        LockMode::Row(m) => 8 + m as u8,
        LockMode::Advisory(AdvisoryMode::Shared) => 12,
        LockMode::Advisory(AdvisoryMode::Exclusive) => 13,
        LockMode::InnoDbTable(m) => 14 + m as u8,
        LockMode::InnoDbRecord(m) => 19 + m.code(),
    }
}

/// The mode of a code made by [`mode_code`].
pub(crate) fn mode_of(code: u8) -> LockMode {
    match code {
        0..8 => LockMode::Table(TableLockMode::ALL[usize::from(code)]),
        8..12 => LockMode::Row(RowLockMode::ALL[usize::from(code - 8)]),
        12 => LockMode::Advisory(AdvisoryMode::Shared),
        13 => LockMode::Advisory(AdvisoryMode::Exclusive),
        14..19 => LockMode::InnoDbTable(InnoDbTableMode::ALL[usize::from(code - 14)]),
        _ => LockMode::InnoDbRecord(InnoDbRecordMode::ALL[usize::from(code - 19) % 8]),
    }
}

/// Bit `h` of row `a` is set when a request in mode `a` waits for a holder in mode `h`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConflictMatrix([u32; MODE_COUNT]);

impl ConflictMatrix {
    /// Builds the matrix from [`LockMode::conflicts_with`].
    pub(crate) fn new() -> Self {
        let mut rows = [0u32; MODE_COUNT];
        for (a, row) in rows.iter_mut().enumerate() {
            for h in 0..MODE_COUNT {
                if mode_of(a as u8).conflicts_with(mode_of(h as u8)) {
                    *row |= 1 << h;
                }
            }
        }
        ConflictMatrix(rows)
    }

    /// Whether a request in mode `requested` waits for a holder in mode `held`.
    #[inline]
    pub(crate) fn conflicts(&self, requested: u8, held: u8) -> bool {
        self.0[usize::from(requested)] & (1 << held) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_matrix_matches_core() {
        let m = ConflictMatrix::new();
        for a in 0..MODE_COUNT as u8 {
            assert_eq!(mode_code(mode_of(a)), a);
            for h in 0..MODE_COUNT as u8 {
                assert_eq!(m.conflicts(a, h), mode_of(a).conflicts_with(mode_of(h)));
            }
        }
    }
}
