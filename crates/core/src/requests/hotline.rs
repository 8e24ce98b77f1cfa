//! Orders transferred from the city's 12345 hotline, read from the XLSX (or CSV) the city's system exports.

use crate::transfer::{RowError, Table};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

/// The columns of a 12345 order file: key, Chinese header, required.
pub const COLUMNS: &[(&str, &str, bool)] = &[
    ("external_no", "工单编号", true),
    ("received_at", "受理时间", true),
    ("category", "诉求类别", true),
    ("description", "诉求内容", true),
    ("address", "地址", true),
    ("contact_name", "联系人", false),
    ("contact_phone", "联系电话", false),
    ("lead_unit", "主办单位", false),
    ("co_units", "协办单位", false),
    ("city_deadline", "办结时限", false),
];

/// One order as the city sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotlineOrder {
    /// Spreadsheet row number.
    pub row: usize,
    /// The city's order number.
    pub external_no: String,
    /// When the city took it in.
    pub received_at: DateTime<Utc>,
    /// Category code or Chinese name, as the file gives it.
    pub category: String,
    /// What the resident said.
    pub description: String,
    /// Where.
    pub address: String,
    /// Who.
    pub contact_name: String,
    /// Phone.
    pub contact_phone: String,
    /// The lead unit the city named.
    pub lead_unit: String,
    /// Co-handling units.
    pub co_units: String,
    /// The city's own deadline, when given.
    pub city_deadline: Option<DateTime<Utc>>,
}

fn beijing_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| crate::registry::parse_date(s).map(|d| d.and_time(chrono::NaiveTime::MIN)))
        .and_then(|t| Shanghai.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
}

/// The longest description the API takes, which an imported order keeps to as well.
pub const MAX_DESCRIPTION: usize = 2000;

impl HotlineOrder {
    /// The request's description: what the resident said, with the units the city named.
    pub fn request_description(&self) -> String {
        if self.lead_unit.is_empty() && self.co_units.is_empty() {
            self.description.clone()
        } else {
            format!("{}(12345 主办:{};协办:{})", self.description, self.lead_unit, self.co_units)
        }
    }
}

/// Longest text per column, as the API's own fields take it.
fn max_chars(key: &str) -> usize {
    match key {
        "external_no" => 64,
        "description" => MAX_DESCRIPTION,
        "address" => 200,
        "contact_name" => 40,
        "lead_unit" | "co_units" => 100,
        _ => 64,
    }
}

/// Checks every row; all good rows, or every error with the row number the spreadsheet shows and the column.
/// The header is the first row naming a column of the file; a column named twice refuses the file. An order
/// received after `now` is refused.
pub fn parse_orders(table: &Table, now: DateTime<Utc>) -> Result<Vec<HotlineOrder>, Vec<RowError>> {
    let known = |h: &str| COLUMNS.iter().position(|(k, zh, _)| h.trim() == *zh || h.trim() == *k);
    if table.is_empty() {
        return Err(vec![RowError {
            row: 1, column: String::new(), message: "文件中没有数据行 / no rows".into()
        }]);
    }
    // Rows above the header (a title, a note) are not orders.
    let start = table.iter().position(|r| r.cells.iter().any(|h| known(h).is_some())).unwrap_or(0);
    let header = &table[start];
    let mut index: [Option<usize>; COLUMNS.len()] = [None; COLUMNS.len()];
    let mut errors = Vec::new();
    for (c, h) in header.cells.iter().enumerate() {
        if let Some(k) = known(h) {
            if index[k].is_some() {
                let zh = COLUMNS[k].1;
                errors.push(RowError {
                    row: header.number,
                    column: zh.to_string(),
                    message: format!("表头中「{zh}」出现了两次 / the header names this column twice"),
                });
            } else {
                index[k] = Some(c);
            }
        }
    }
    errors.extend(COLUMNS.iter().zip(&index).filter(|((_, _, req), i)| *req && i.is_none()).map(|((_, zh, _), _)| {
        RowError {
            row: header.number, column: zh.to_string(), message: format!("缺少必填列「{zh}」/ missing column")
        }
    }));
    if !errors.is_empty() {
        return Err(errors);
    }
    let column = |key: &str| COLUMNS.iter().position(|(k, _, _)| *k == key).expect("known column");
    let mut orders = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for r in &table[start + 1..] {
        let row = r.number;
        let get = |key: &str| {
            index[column(key)].and_then(|c| r.cells.get(c)).map(|s| s.trim().to_string()).unwrap_or_default()
        };
        let mut row_errors = Vec::new();
        let at = |key: &str, message: &str| RowError {
            row,
            column: COLUMNS[column(key)].1.to_string(),
            message: message.to_string(),
        };
        for (key, _, _) in COLUMNS {
            let text = get(key);
            if crate::text::has_forbidden(&text) {
                row_errors.push(at(key, crate::text::FORBIDDEN_MESSAGE));
            } else if index[column(key)]
                .and_then(|c| r.cells.get(c))
                .is_some_and(|s| crate::transfer::is_formula_like(s))
            {
                row_errors.push(at(key, crate::transfer::formula_message()));
            } else if text.chars().count() > max_chars(key) {
                row_errors.push(at(
                    key,
                    &format!("不超过 {} 个字符 / at most {} characters", max_chars(key), max_chars(key)),
                ));
            }
        }
        let external_no = get("external_no");
        if external_no.is_empty() {
            row_errors.push(at("external_no", "工单编号不能为空 / the order number is required"));
        } else if let Some(first) = seen.insert(external_no.clone(), row) {
            row_errors
                .push(at("external_no", &format!("与第 {first} 行的工单编号重复 / same order number as row {first}")));
        }
        let received_at = beijing_time(&get("received_at"));
        match received_at {
            None => row_errors.push(at("received_at", "时间应为 YYYY-MM-DD HH:MM / time must be YYYY-MM-DD HH:MM")),
            Some(t) if t > now => row_errors.push(at("received_at", "受理时间晚于现在 / received after now")),
            Some(_) => {}
        }
        for key in ["category", "description", "address"] {
            if get(key).is_empty() {
                row_errors.push(at(key, "不能为空 / required"));
            }
        }
        let deadline_text = get("city_deadline");
        let city_deadline = if deadline_text.is_empty() { None } else { beijing_time(&deadline_text) };
        if !deadline_text.is_empty() && city_deadline.is_none() {
            row_errors.push(at("city_deadline", "时间应为 YYYY-MM-DD HH:MM / time must be YYYY-MM-DD HH:MM"));
        }
        let order = received_at.map(|received_at| HotlineOrder {
            row,
            external_no,
            received_at,
            category: get("category"),
            description: get("description"),
            address: get("address"),
            contact_name: get("contact_name"),
            contact_phone: get("contact_phone"),
            lead_unit: get("lead_unit"),
            co_units: get("co_units"),
            city_deadline,
        });
        if let Some(o) = &order
            && row_errors.is_empty()
            && o.request_description().chars().count() > MAX_DESCRIPTION
        {
            row_errors.push(at(
                "description",
                "诉求内容连同主办、协办单位超过 2000 字 / with its units the description is over 2000 characters",
            ));
        }
        match order {
            Some(o) if row_errors.is_empty() => orders.push(o),
            _ => errors.append(&mut row_errors),
        }
    }
    if errors.is_empty() { Ok(orders) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::read_table;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 2, 26, 12, 0, 0).unwrap()
    }

    #[test]
    fn reads_orders_and_reports_bad_rows() {
        let csv = "工单编号,受理时间,诉求类别,诉求内容,地址,联系人,联系电话,主办单位,协办单位,办结时限\n\
            BJ2024022600123,2024-02-26 08:15,停电,6号院停电,琉璃井路6号院1号楼,王先生,13800001111,永外街道,物业,2024-02-27 08:15\n\
            ,2024-02-26,入学咨询,怎么登记,琉璃井路3号院,,,,,\n\
            BJ2024022600123,昨天,入学咨询,,琉璃井路3号院,,,,,明天\n";
        let table = read_table(csv.as_bytes()).unwrap();
        let errs = parse_orders(&table, now()).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(got, [(3, "工单编号"), (4, "工单编号"), (4, "受理时间"), (4, "诉求内容"), (4, "办结时限")]);
        let good = csv.lines().take(2).collect::<Vec<_>>().join("\n");
        let orders = parse_orders(&read_table(good.as_bytes()).unwrap(), now()).unwrap();
        assert_eq!(orders[0].received_at, Utc.with_ymd_and_hms(2024, 2, 26, 0, 15, 0).unwrap());
        assert_eq!(orders[0].city_deadline, Some(Utc.with_ymd_and_hms(2024, 2, 27, 0, 15, 0).unwrap()));
    }

    #[test]
    fn a_file_without_the_order_number_column_is_refused() {
        let table = read_table("受理时间,诉求内容\n2024-02-26,x\n".as_bytes()).unwrap();
        let errs = parse_orders(&table, now()).unwrap_err();
        assert_eq!(errs[0].column, "工单编号");
    }

    #[test]
    fn an_order_with_a_formula_cell_is_refused() {
        let csv = "工单编号,受理时间,诉求类别,诉求内容,地址\n\
            BJ1,2024-02-26 08:15,停电,=HYPERLINK(\"http://evil.example\"),琉璃井路6号院\n";
        let errs = parse_orders(&read_table(csv.as_bytes()).unwrap(), now()).unwrap_err();
        assert_eq!((errs[0].row, errs[0].column.as_str()), (2, "诉求内容"));
    }
}
