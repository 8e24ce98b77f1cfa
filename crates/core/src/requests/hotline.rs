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

/// Checks every row; all good rows, or every error with its row and column.
pub fn parse_orders(table: &Table) -> Result<Vec<HotlineOrder>, Vec<RowError>> {
    let header = table.first().ok_or_else(|| {
        vec![RowError { row: 1, column: String::new(), message: "文件中没有数据行 / no rows".into() }]
    })?;
    let index = |key: &str| {
        let (_, zh, _) = COLUMNS.iter().find(|(k, _, _)| *k == key).expect("known column");
        header.iter().position(|h| h.trim() == *zh || h.trim() == key)
    };
    let missing: Vec<RowError> = COLUMNS
        .iter()
        .filter(|(k, _, req)| *req && index(k).is_none())
        .map(|(_, zh, _)| RowError {
            row: 1,
            column: zh.to_string(),
            message: format!("缺少必填列「{zh}」/ missing column"),
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut orders = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, cells) in table.iter().enumerate().skip(1) {
        let row = i + 1;
        let get = |key: &str| index(key).and_then(|c| cells.get(c)).map(|s| s.trim().to_string()).unwrap_or_default();
        let mut err = |key: &str, message: &str| {
            let (_, zh, _) = COLUMNS.iter().find(|(k, _, _)| *k == key).expect("known column");
            errors.push(RowError { row, column: zh.to_string(), message: message.to_string() });
        };
        for (key, _, _) in COLUMNS {
            if index(key).and_then(|c| cells.get(c)).is_some_and(|s| crate::transfer::is_formula_like(s)) {
                err(key, crate::transfer::formula_message());
            }
        }
        let external_no = get("external_no");
        if external_no.is_empty() || external_no.chars().count() > 64 {
            err("external_no", "工单编号不能为空 / the order number is required");
        } else if let Some(first) = seen.insert(external_no.clone(), row) {
            err("external_no", &format!("与第 {first} 行的工单编号重复 / same order number as row {first}"));
        }
        let received_at = beijing_time(&get("received_at"));
        if received_at.is_none() {
            err("received_at", "时间应为 YYYY-MM-DD HH:MM / time must be YYYY-MM-DD HH:MM");
        }
        for key in ["category", "description", "address"] {
            if get(key).is_empty() {
                err(key, "不能为空 / required");
            }
        }
        let deadline_text = get("city_deadline");
        let city_deadline = if deadline_text.is_empty() { None } else { beijing_time(&deadline_text) };
        if !deadline_text.is_empty() && city_deadline.is_none() {
            err("city_deadline", "时间应为 YYYY-MM-DD HH:MM / time must be YYYY-MM-DD HH:MM");
        }
        if let Some(r) = received_at {
            orders.push(HotlineOrder {
                row,
                external_no,
                received_at: r,
                category: get("category"),
                description: get("description"),
                address: get("address"),
                contact_name: get("contact_name"),
                contact_phone: get("contact_phone"),
                lead_unit: get("lead_unit"),
                co_units: get("co_units"),
                city_deadline,
            });
        }
    }
    if errors.is_empty() { Ok(orders) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::read_table;

    #[test]
    fn reads_orders_and_reports_bad_rows() {
        let csv = "工单编号,受理时间,诉求类别,诉求内容,地址,联系人,联系电话,主办单位,协办单位,办结时限\n\
            BJ2024022600123,2024-02-26 08:15,停电,6号院停电,琉璃井路6号院1号楼,王先生,13800001111,永外街道,物业,2024-02-27 08:15\n\
            ,2024-02-26,入学咨询,怎么登记,琉璃井路3号院,,,,,\n\
            BJ2024022600123,昨天,入学咨询,,琉璃井路3号院,,,,,明天\n";
        let table = read_table(csv.as_bytes()).unwrap();
        let errs = parse_orders(&table).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(got, [(3, "工单编号"), (4, "工单编号"), (4, "受理时间"), (4, "诉求内容"), (4, "办结时限")]);
        let good = csv.lines().take(2).collect::<Vec<_>>().join("\n");
        let orders = parse_orders(&read_table(good.as_bytes()).unwrap()).unwrap();
        assert_eq!(orders[0].received_at, Utc.with_ymd_and_hms(2024, 2, 26, 0, 15, 0).unwrap());
        assert_eq!(orders[0].city_deadline, Some(Utc.with_ymd_and_hms(2024, 2, 27, 0, 15, 0).unwrap()));
    }

    #[test]
    fn a_file_without_the_order_number_column_is_refused() {
        let table = read_table("受理时间,诉求内容\n2024-02-26,x\n".as_bytes()).unwrap();
        let errs = parse_orders(&table).unwrap_err();
        assert_eq!(errs[0].column, "工单编号");
    }

    #[test]
    fn an_order_with_a_formula_cell_is_refused() {
        let csv = "工单编号,受理时间,诉求类别,诉求内容,地址\n\
            BJ1,2024-02-26 08:15,停电,=HYPERLINK(\"http://evil.example\"),琉璃井路6号院\n";
        let errs = parse_orders(&read_table(csv.as_bytes()).unwrap()).unwrap_err();
        assert_eq!((errs[0].row, errs[0].column.as_str()), (2, "诉求内容"));
    }
}
